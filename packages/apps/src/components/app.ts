import { appHost, type AppSpec, type LoadedCluster } from '@groundwork/cluster';
import {
  ANNOTATIONS,
  configHash,
  container,
  deployment,
  disruptionBudget,
  formatMemory,
  httpProbe,
  ingress,
  isolatedNamespace,
  meta,
  networkPolicy,
  parseQuantity,
  peers,
  restrictedPodSecurity,
  secretKeyRef,
  selectorLabels,
  service,
  tcp,
  tcpProbe,
  type PolicyRule,
} from '@groundwork/kube';
import { INGRESS_PODS, TRAEFIK_NAMESPACE } from '@groundwork/platform-core';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { POSTGRES_PORT, SECRETS, appOf, databaseOf, volumeClaim } from '../names.ts';
import { databaseEnv } from './database.ts';

const PROMETHEUS = peers.pods('observability', { 'app.kubernetes.io/name': 'prometheus' });

/** The port Prometheus scrapes, when the app exposes metrics. */
export const metricsPort = (spec: AppSpec) => (spec.metrics ? (spec.metrics.port ?? spec.port) : undefined);

/** Twice the request unless given: room for a burst, still a limit the kernel enforces. */
function memoryLimit(spec: AppSpec): string {
  return spec.resources.memoryLimit ?? formatMemory(parseQuantity(spec.resources.memory) * 2);
}

/** HTTP checks on `health.path`, else "the port accepts connections"; none without a port (verify says so). */
function probes(spec: AppSpec): { startup?: IProbe; readiness?: IProbe; liveness?: IProbe } {
  if (spec.port === undefined) return {};
  const startupFailures = Math.ceil((spec.health?.startupSeconds ?? 120) / 5);
  const probe = (timing: { periodSeconds: number; failureThreshold: number }) => (spec.health ? httpProbe(spec.health.path, 'http', timing) : tcpProbe('http', timing));
  return {
    startup: probe({ periodSeconds: 5, failureThreshold: startupFailures }),
    readiness: probe({ periodSeconds: 10, failureThreshold: 3 }),
    liveness: probe({ periodSeconds: 30, failureThreshold: 5 }),
  };
}

function env(spec: AppSpec): Record<string, ReturnType<typeof secretKeyRef> | string> {
  const own = Object.fromEntries(Object.entries(spec.env).map(([name, value]) => [name, typeof value === 'string' ? value : secretKeyRef(SECRETS.app(spec), value.secret)]));
  // The database's variables come first: the app's own values may refer to them as $(PGHOST) and so on.
  return { ...(spec.database ? databaseEnv(spec) : {}), ...own };
}

/** Who may reach the app: Traefik when it has a host, Prometheus when it has metrics. */
function ingressRules(cluster: LoadedCluster, spec: AppSpec): PolicyRule[] {
  const rules: PolicyRule[] = [];
  if (spec.host && spec.port !== undefined) rules.push({ peers: [peers.pods(TRAEFIK_NAMESPACE, INGRESS_PODS)], ports: tcp(spec.port) });
  const scrape = metricsPort(spec);
  if (scrape !== undefined && cluster.config.features.observability.enabled) rules.push({ peers: [PROMETHEUS], ports: tcp(scrape) });
  return rules;
}

/** Where the app may go: its database, and the internet or private networks the file allows. */
function egressRules(spec: AppSpec): PolicyRule[] {
  const rules: PolicyRule[] = [];
  if (spec.database) rules.push({ peers: [peers.pods(spec.namespace, selectorLabels(databaseOf(spec)))], ports: tcp(POSTGRES_PORT) });
  const ports = tcp(...spec.egress.ports);
  if (spec.egress.internet) rules.push({ peers: [peers.internet()], ports });
  if (spec.egress.cidrs.length) rules.push({ peers: spec.egress.cidrs.map((cidr) => peers.cidr(cidr)), ports });
  return rules;
}

/** The app itself: namespace and its policies, volumes, the Deployment, its Service, budget and Ingress. */
export function appObjects(cluster: LoadedCluster, spec: AppSpec): object[] {
  const app = appOf(spec);
  const volumes = Object.entries(spec.volumes);
  const scratch = spec.writable.map((path, i) => ({ name: `scratch-${i}`, path }));
  const scrape = metricsPort(spec);
  const ports: Record<string, number> = {};
  if (spec.port !== undefined) ports.http = spec.port;
  if (scrape !== undefined && scrape !== spec.port) ports.metrics = scrape;
  const single = spec.replicas === 1 && spec.singleReplicaReason;
  const files = Object.entries(spec.files).map(([path, text], i) => ({ key: `file-${i}`, path, text }));
  const annotations: Record<string, string> = {};
  if (scrape !== undefined) Object.assign(annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(scrape), 'prometheus.io/path': spec.metrics!.path });
  if (files.length) annotations['groundwork.dev/config-hash'] = configHash(spec.files);
  const objects: object[] = [
    ...isolatedNamespace(spec.namespace, 'restricted'),
    networkPolicy(spec.namespace, spec.name, { pods: selectorLabels(app), ingress: ingressRules(cluster, spec), egress: egressRules(spec) }),
    ...(files.length ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(app, `${spec.name}-files`), data: Object.fromEntries(files.map((f) => [f.key, f.text])) }] : []),
    ...volumes.map(([name, volume]) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta(app, volumeClaim(spec, name)),
      spec: { accessModes: ['ReadWriteOnce'], ...(volume.storageClass ? { storageClassName: volume.storageClass } : {}), resources: { requests: { storage: volume.size } } },
    })),
    deployment(app, {
      replicas: spec.replicas,
      // A ReadWriteOnce volume is held by one pod: the old one stops before the new one starts.
      ...(volumes.length ? { strategy: 'Recreate' as const } : {}),
      ...(single ? { annotations: { [ANNOTATIONS.singleReplicaReason]: spec.singleReplicaReason! } } : {}),
      pod: {
        security: restrictedPodSecurity(spec.user),
        ...(Object.keys(annotations).length ? { annotations } : {}),
        containers: [
          container({
            name: spec.name,
            image: spec.image,
            ...(spec.command ? { command: spec.command } : {}),
            ...(spec.args ? { args: spec.args } : {}),
            env: env(spec),
            ports,
            resources: { cpu: spec.resources.cpu, memory: spec.resources.memory, memoryLimit: memoryLimit(spec) },
            ...probes(spec),
            mounts: [
              ...volumes.map(([name, volume]) => ({ name, mountPath: volume.path })),
              ...scratch.map((s) => ({ name: s.name, mountPath: s.path })),
              ...files.map((f) => ({ name: 'files', mountPath: f.path, subPath: f.key, readOnly: true })),
            ],
          }),
        ],
        volumes: [
          ...volumes.map(([name]) => ({ name, persistentVolumeClaim: { claimName: volumeClaim(spec, name) } })),
          ...scratch.map((s) => ({ name: s.name, emptyDir: { sizeLimit: '256Mi' } })),
          ...(files.length ? [{ name: 'files', configMap: { name: `${spec.name}-files` } }] : []),
        ],
      },
    }),
  ];
  if (spec.port !== undefined) {
    objects.push(service(app, { ports: Object.entries(ports).map(([name, port]) => ({ name, port })) }));
  }
  if (spec.replicas > 1) objects.push(disruptionBudget(app));
  const host = appHost(spec, cluster.config.domain);
  if (host && spec.port !== undefined) objects.push(ingress(app, { host, port: 'http' }));
  return objects;
}

import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, clusterAccess, container, deployment, httpProbe, networkPolicy, peers, rule, selectorLabels, service, serviceAccount, tcp, type App } from '@groundwork/kube';
import { NAMESPACE, PORTS } from '../names.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const KUBE_STATE_METRICS: App = { name: 'kube-state-metrics', namespace: NAMESPACE, component: 'exporter', partOf: 'observability', version: tagOf(IMAGES.kubeStateMetrics) };

/** What it reports on; Secrets and ConfigMaps are left out so it needs no access to them. */
const RESOURCES: Array<[string, string]> = [
  ['', 'nodes'],
  ['', 'namespaces'],
  ['', 'pods'],
  ['', 'services'],
  ['', 'persistentvolumeclaims'],
  ['', 'persistentvolumes'],
  ['apps', 'deployments'],
  ['apps', 'daemonsets'],
  ['apps', 'statefulsets'],
  ['apps', 'replicasets'],
  ['batch', 'jobs'],
  ['batch', 'cronjobs'],
  ['policy', 'poddisruptionbudgets'],
  ['storage.k8s.io', 'storageclasses'],
  ['certificates.k8s.io', 'certificatesigningrequests'],
];

export function kubeStateMetrics(_cluster: LoadedCluster): object[] {
  const groups = [...new Set(RESOURCES.map(([g]) => g))];
  return [
    serviceAccount(KUBE_STATE_METRICS),
    ...clusterAccess(KUBE_STATE_METRICS, groups.map((g) => rule([g], RESOURCES.filter(([x]) => x === g).map(([, r]) => r), 'list watch'))),
    networkPolicy(NAMESPACE, 'kube-state-metrics', {
      pods: selectorLabels(KUBE_STATE_METRICS),
      ingress: [{ peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' })], ports: tcp(PORTS.kubeStateMetrics, PORTS.kubeStateMetricsTelemetry) }],
    }),
    service(KUBE_STATE_METRICS, { ports: [{ name: 'http-metrics', port: PORTS.kubeStateMetrics }, { name: 'telemetry', port: PORTS.kubeStateMetricsTelemetry }] }),
    deployment(KUBE_STATE_METRICS, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'object metrics have a gap while it restarts' },
      pod: {
        serviceAccount: KUBE_STATE_METRICS.name,
        security: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'kube-state-metrics',
            image: IMAGES.kubeStateMetrics,
            goMemoryLimit: true,
            args: [`--port=${PORTS.kubeStateMetrics}`, `--telemetry-port=${PORTS.kubeStateMetricsTelemetry}`, `--resources=${RESOURCES.map(([, r]) => r).join(',')}`],
            ports: { 'http-metrics': PORTS.kubeStateMetrics, telemetry: PORTS.kubeStateMetricsTelemetry },
            resources: { cpu: '10m', memory: '64Mi', memoryLimit: '256Mi' },
            liveness: httpProbe('/livez', 'http-metrics', { initialDelaySeconds: 5 }),
            readiness: httpProbe('/readyz', 'telemetry', { initialDelaySeconds: 5 }),
          }),
        ],
      },
    }),
  ];
}

import { loadBalancerPool, workers, type LoadedCluster } from '@groundwork/cluster';
import {
  READ,
  clusterAccess,
  clusterMeta,
  container,
  deployment,
  disruptionBudget,
  httpProbe,
  isolatedNamespace,
  networkPolicy,
  peers,
  rule,
  selectorLabels,
  service,
  serviceAccount,
  tcp,
  type App,
  type Component,
} from '@groundwork/kube';
import { IMAGES, tagOf } from '../versions.ts';

export const TRAEFIK_NAMESPACE = 'traefik';
export const INGRESS_CLASS = 'traefik';
/** How other layers' network policies name the Ingress controller's pods (in TRAEFIK_NAMESPACE). */
export const INGRESS_PODS = { 'app.kubernetes.io/name': 'traefik' } as const;
const PORTS = { web: 8000, websecure: 8443, traefik: 8080, metrics: 9100 };
/** Fixed node ports when there is no LoadBalancer (Cilium off, e.g. Talos in Docker). */
export const NODE_PORTS = { http: 30080, https: 30443 };

export function ingressReplicas(cluster: LoadedCluster): number {
  return workers(cluster.config).length >= 2 ? 2 : 1;
}

function args(): string[] {
  return [
    '--global.checkNewVersion=false',
    '--global.sendAnonymousUsage=false',
    `--entryPoints.web.address=:${PORTS.web}/tcp`,
    `--entryPoints.websecure.address=:${PORTS.websecure}/tcp`,
    `--entryPoints.traefik.address=:${PORTS.traefik}/tcp`,
    `--entryPoints.metrics.address=:${PORTS.metrics}/tcp`,
    // Plain HTTP only ever answers with a redirect to HTTPS on the Service's port 443.
    '--entryPoints.web.http.redirections.entryPoint.to=:443',
    '--entryPoints.web.http.redirections.entryPoint.scheme=https',
    '--entryPoints.web.http.redirections.entryPoint.permanent=true',
    '--entryPoints.websecure.http.tls=true',
    '--ping=true',
    '--ping.entryPoint=traefik',
    '--metrics.prometheus=true',
    '--metrics.prometheus.entryPoint=metrics',
    // Kubernetes Ingress only: no Traefik CRDs to install or keep in sync.
    '--providers.kubernetesingress=true',
    `--providers.kubernetesingress.ingressClass=${INGRESS_CLASS}`,
    `--providers.kubernetesingress.ingressEndpoint.publishedService=${TRAEFIK_NAMESPACE}/traefik`,
    '--log.level=INFO',
  ];
}

/** Traefik as the default Ingress controller, on a LoadBalancer address from Cilium's pool. */
export function traefik(cluster: LoadedCluster): Component {
  const app: App = { name: 'traefik', namespace: TRAEFIK_NAMESPACE, component: 'ingress-controller', partOf: 'traefik', version: tagOf(IMAGES.traefik) };
  const replicas = ingressReplicas(cluster);
  const pool = loadBalancerPool(cluster.config);
  const address = cluster.config.features.ingress.loadBalancerIp;
  const pods = selectorLabels(app);
  const objects: object[] = [
    ...isolatedNamespace(TRAEFIK_NAMESPACE, 'restricted', { nodeCidr: cluster.config.network.nodeCidr }),
    networkPolicy(TRAEFIK_NAMESPACE, 'traefik', {
      pods,
      // Clients come from anywhere (the LAN through the LoadBalancer address, cloudflared from inside); backends are
      // any pod. With externalTrafficPolicy Cluster a request the announcing node forwards arrives from that node's
      // address, and Cilium never counts node addresses as part of 0.0.0.0/0 ("world"): they match only an ipBlock
      // naming them (cilium-config's policy-cidr-match-mode: nodes), hence the node network.
      ingress: [
        { peers: [peers.cidr('0.0.0.0/0'), peers.cidr(cluster.config.network.nodeCidr), peers.anyPod()], ports: tcp(PORTS.web, PORTS.websecure) },
        { peers: [peers.pods('observability', { 'app.kubernetes.io/name': 'prometheus' })], ports: tcp(PORTS.metrics) },
      ],
      egress: [{ peers: [peers.anyPod()] }],
    }),
    serviceAccount(app),
    ...clusterAccess(app, [
      rule([''], ['services', 'secrets', 'nodes'], READ),
      rule(['discovery.k8s.io'], ['endpointslices'], 'list watch'),
      rule(['networking.k8s.io'], ['ingresses', 'ingressclasses'], READ),
      rule(['networking.k8s.io'], ['ingresses/status'], 'update'),
    ]),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: clusterMeta(app, INGRESS_CLASS, { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }),
      spec: { controller: 'traefik.io/ingress-controller' },
    },
    deployment(app, {
      replicas,
      pod: {
        serviceAccount: app.name,
        // Picked up by the observability layer's Prometheus, if there is one.
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(PORTS.metrics) },
        containers: [
          container({
            name: 'traefik',
            image: IMAGES.traefik,
            goMemoryLimit: true,
            args: args(),
            ports: PORTS,
            resources: { cpu: '50m', memory: '64Mi', memoryLimit: '256Mi' },
            readiness: httpProbe('/ping', 'traefik', { periodSeconds: 5, failureThreshold: 1 }),
            liveness: httpProbe('/ping', 'traefik', { initialDelaySeconds: 2 }),
            mounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }),
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
        spec: { terminationGracePeriodSeconds: 30 },
      },
    }),
    pool
      ? service(app, {
          type: 'LoadBalancer',
          ...(address ? { annotations: { 'lbipam.cilium.io/ips': address } } : {}),
          // Cluster, not Local: the node answering ARP for the address need not run a Traefik pod.
          spec: { externalTrafficPolicy: 'Cluster' },
          ports: [
            { name: 'http', port: 80, targetPort: 'web' },
            { name: 'https', port: 443, targetPort: 'websecure' },
          ],
        })
      : service(app, {
          type: 'NodePort',
          ports: [
            { name: 'http', port: 80, targetPort: 'web' },
            { name: 'https', port: 443, targetPort: 'websecure' },
          ],
          spec: {},
        }),
  ];
  if (!pool) {
    const svc = objects.at(-1) as { spec: { ports: Array<{ name: string; nodePort?: number }> } };
    for (const port of svc.spec.ports) port.nodePort = port.name === 'http' ? NODE_PORTS.http : NODE_PORTS.https;
  }
  if (replicas > 1) objects.push(disruptionBudget(app));
  return { name: 'traefik', description: `Traefik ${tagOf(IMAGES.traefik)}: the default Ingress controller (Kubernetes Ingress provider only)`, objects };
}

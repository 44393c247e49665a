import type { LoadedCluster } from '@groundwork/cluster';
import { READ, clusterAccess, configHash, container, daemonSet, fieldRef, httpProbe, meta, networkPolicy, peers, selectorLabels, serviceAccount, tcp, type App } from '@groundwork/kube';
import { STATE_DIR, fluentBitConfig } from '../config/fluent-bit-config.ts';
import { AGENTS_NAMESPACE, NAMESPACE, PORTS } from '../names.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const FLUENT_BIT: App = { name: 'fluent-bit', namespace: AGENTS_NAMESPACE, component: 'log-shipper', partOf: 'observability', version: tagOf(IMAGES.fluentBit) };

/** Ships every container's log lines from each node to Loki. */
export function fluentBit(_cluster: LoadedCluster): object[] {
  const config = fluentBitConfig();
  return [
    serviceAccount(FLUENT_BIT),
    ...clusterAccess(FLUENT_BIT, [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: READ.split(' ') }]),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(FLUENT_BIT, 'fluent-bit-config'), data: { 'fluent-bit.conf': config } },
    networkPolicy(AGENTS_NAMESPACE, 'fluent-bit', {
      pods: selectorLabels(FLUENT_BIT),
      ingress: [{ peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' })], ports: tcp(PORTS.fluentBit) }],
      egress: [{ peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'loki' })], ports: tcp(PORTS.loki) }],
    }),
    daemonSet(FLUENT_BIT, {
      pod: {
        serviceAccount: FLUENT_BIT.name,
        annotations: {
          'groundwork.dev/config-hash': configHash(config),
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(PORTS.fluentBit),
          'prometheus.io/path': '/api/v2/metrics/prometheus',
        },
        // Container logs on the host are root's; reading them needs no capability, only the user.
        security: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'fluent-bit',
            image: IMAGES.fluentBit,
            args: ['-c', '/fluent-bit/etc/conf/fluent-bit.conf'],
            env: { NODE_NAME: fieldRef('spec.nodeName') },
            ports: { http: PORTS.fluentBit },
            resources: { cpu: '10m', memory: '32Mi', memoryLimit: '128Mi' },
            liveness: httpProbe('/api/v1/health', 'http', { initialDelaySeconds: 10 }),
            readiness: httpProbe('/', 'http'),
            mounts: [
              { name: 'config', mountPath: '/fluent-bit/etc/conf', readOnly: true },
              { name: 'varlog', mountPath: '/var/log', readOnly: true },
              { name: 'state', mountPath: STATE_DIR },
            ],
            security: { runAsNonRoot: false },
          }),
        ],
        volumes: [
          { name: 'config', configMap: { name: 'fluent-bit-config' } },
          { name: 'varlog', hostPath: { path: '/var/log' } },
          { name: 'state', hostPath: { path: STATE_DIR, type: 'DirectoryOrCreate' } },
        ],
        spec: { tolerations: [{ operator: 'Exists' }], priorityClassName: 'system-node-critical' },
      },
    }),
  ];
}

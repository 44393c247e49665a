import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, configHash, container, httpProbe, meta, networkPolicy, peers, selectorLabels, service, statefulSet, tcp, tcpProbe, type App } from '@groundwork/kube';
import { stringify } from 'yaml';
import { LOKI_DATA, lokiConfig } from '../config/loki-config.ts';
import { AGENTS_NAMESPACE, NAMESPACE, PORTS } from '../names.ts';
import { lokiSize } from '../sizing.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const LOKI: App = { name: 'loki', namespace: NAMESPACE, component: 'logs', partOf: 'observability', version: tagOf(IMAGES.loki) };

export function lokiFile(cluster: LoadedCluster): string {
  return stringify(lokiConfig(cluster), { lineWidth: 0 });
}

export function loki(cluster: LoadedCluster): object[] {
  const size = lokiSize(cluster);
  const config = lokiFile(cluster);
  const { nodeCidr } = cluster.config.network;
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(LOKI, 'loki-config'), data: { 'loki.yaml': config } },
    networkPolicy(NAMESPACE, 'loki', {
      pods: selectorLabels(LOKI),
      ingress: [
        {
          peers: [
            peers.pods(AGENTS_NAMESPACE, { 'app.kubernetes.io/name': 'fluent-bit' }),
            peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'grafana' }),
            peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' }),
            peers.cidr(nodeCidr),
          ],
          ports: tcp(PORTS.loki),
        },
      ],
    }),
    service(LOKI, { ports: [{ name: 'http', port: PORTS.loki }] }),
    statefulSet(LOKI, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'Fluent Bit buffers on the nodes while it restarts' },
      volumeClaims: [{ name: 'data', size: size.volumeSize }],
      pod: {
        annotations: { 'groundwork.dev/config-hash': configHash(config) },
        security: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'loki',
            image: IMAGES.loki,
            goMemoryLimit: true,
            args: ['-config.file=/etc/loki/loki.yaml', '-target=all'],
            ports: { http: PORTS.loki, grpc: 9095 },
            resources: { cpu: '50m', memory: size.memoryRequest, memoryLimit: size.memoryLimit },
            readiness: httpProbe('/ready', 'http', { initialDelaySeconds: 15 }),
            // Not /ready: it answers 503 while Loki replays its write-ahead log and joins its ring, which after a
            // crash on a slow SD card takes longer than any liveness budget, and a restart starts the replay over.
            // Its HTTP listener is up from the start; a dead or hung process stops accepting.
            liveness: tcpProbe('http', { initialDelaySeconds: 30, failureThreshold: 6 }),
            mounts: [
              { name: 'config', mountPath: '/etc/loki', readOnly: true },
              { name: 'data', mountPath: LOKI_DATA },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          }),
        ],
        volumes: [
          { name: 'config', configMap: { name: 'loki-config' } },
          { name: 'tmp', emptyDir: {} },
        ],
      },
    }),
  ];
}

import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, container, httpProbe, networkPolicy, peers, selectorLabels, service, statefulSet, tcp, tcpProbe, type App } from '@groundwork/kube';
import { AGENTS_NAMESPACE, NAMESPACE, PORTS } from '../names.ts';
import { logStoreSize } from '../sizing.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const VICTORIA_LOGS: App = { name: 'victoria-logs', namespace: NAMESPACE, component: 'logs', partOf: 'observability', version: tagOf(IMAGES.victoriaLogs) };
export const LOG_DATA = '/vlogs';

/**
 * VictoriaLogs' command line: it has no configuration file. Retention by age and by size (the oldest days go
 * first), data on the volume.
 */
export function victoriaLogsArgs(cluster: LoadedCluster): string[] {
  const size = logStoreSize(cluster);
  return [
    `-storageDataPath=${LOG_DATA}`,
    `-httpListenAddr=:${PORTS.victoriaLogs}`,
    `-retentionPeriod=${size.retention}`,
    `-retention.maxDiskSpaceUsageBytes=${size.maxDiskBytes}`,
    '-loggerLevel=WARN',
  ];
}

/** The log store: one VictoriaLogs process on its own volume, fed by the log shipper on every node. */
export function victoriaLogs(cluster: LoadedCluster): object[] {
  const size = logStoreSize(cluster);
  const { nodeCidr } = cluster.config.network;
  return [
    networkPolicy(NAMESPACE, VICTORIA_LOGS.name, {
      pods: selectorLabels(VICTORIA_LOGS),
      ingress: [
        {
          peers: [
            // The shipper runs in the host network: its traffic comes from the node addresses.
            peers.pods(AGENTS_NAMESPACE, { 'app.kubernetes.io/name': 'log-shipper' }),
            peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'grafana' }),
            peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' }),
            peers.cidr(nodeCidr),
          ],
          ports: tcp(PORTS.victoriaLogs),
        },
      ],
    }),
    service(VICTORIA_LOGS, { ports: [{ name: 'http', port: PORTS.victoriaLogs }] }),
    statefulSet(VICTORIA_LOGS, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'the log shipper queues on the nodes while it restarts' },
      volumeClaims: [{ name: 'data', size: size.volumeSize }],
      pod: {
        security: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'victoria-logs',
            image: IMAGES.victoriaLogs,
            goMemoryLimit: true,
            args: victoriaLogsArgs(cluster),
            ports: { http: PORTS.victoriaLogs },
            resources: { cpu: '50m', memory: size.memoryRequest, memoryLimit: size.memoryLimit },
            readiness: httpProbe('/health', 'http'),
            // Not an HTTP check: opening a large store after a crash on a slow SD card can take longer than a
            // liveness budget, and a restart starts it over. A dead or hung process stops accepting.
            liveness: tcpProbe('http', { initialDelaySeconds: 30, failureThreshold: 6 }),
            mounts: [{ name: 'data', mountPath: LOG_DATA }],
          }),
        ],
      },
    }),
  ];
}

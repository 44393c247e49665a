import type { LoadedCluster } from '@groundwork/cluster';
import { configHash, container, daemonSet, fieldRef, httpProbe, meta, type App } from '@groundwork/kube';
import { stringify } from 'yaml';
import { POD_LOGS, SHIPPER_STATE_DIR, logShipperConfig } from '../config/log-shipper-config.ts';
import { AGENTS_NAMESPACE, PORTS } from '../names.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const LOG_SHIPPER: App = { name: 'log-shipper', namespace: AGENTS_NAMESPACE, component: 'log-shipper', partOf: 'observability', version: tagOf(IMAGES.otelCollector) };
const CONFIG_DIR = '/etc/log-shipper';

export function logShipperFile(): string {
  return stringify(logShipperConfig(), { lineWidth: 0 });
}

/**
 * The OpenTelemetry Collector on every node: container logs from the kubelet's files and Talos's own logs from
 * loopback, to VictoriaLogs. It needs no Kubernetes API access (the file path names namespace, pod and
 * container), hence no ServiceAccount token.
 */
export function logShipper(_cluster: LoadedCluster): object[] {
  const config = logShipperFile();
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(LOG_SHIPPER, 'log-shipper-config'), data: { 'config.yaml': config } },
    daemonSet(LOG_SHIPPER, {
      pod: {
        annotations: {
          'groundwork.dev/config-hash': configHash(config),
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(PORTS.logShipperMetrics),
        },
        // The log files on the host are root's and not world-readable; reading them needs the user, no capability.
        security: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'otel-collector',
            image: IMAGES.otelCollector,
            goMemoryLimit: true,
            args: [`--config=${CONFIG_DIR}/config.yaml`],
            env: { NODE_NAME: fieldRef('spec.nodeName'), NODE_IP: fieldRef('status.hostIP') },
            ports: { metrics: PORTS.logShipperMetrics, health: PORTS.logShipperHealth },
            resources: { cpu: '20m', memory: '64Mi', memoryLimit: '256Mi' },
            liveness: httpProbe('/', 'health', { initialDelaySeconds: 10 }),
            readiness: httpProbe('/', 'health'),
            mounts: [
              { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
              { name: 'pod-logs', mountPath: POD_LOGS, readOnly: true },
              { name: 'state', mountPath: SHIPPER_STATE_DIR },
            ],
            security: { runAsNonRoot: false },
          }),
        ],
        volumes: [
          { name: 'config', configMap: { name: 'log-shipper-config' } },
          { name: 'pod-logs', hostPath: { path: POD_LOGS } },
          { name: 'state', hostPath: { path: SHIPPER_STATE_DIR, type: 'DirectoryOrCreate' } },
        ],
        spec: {
          // Talos sends its own logs to loopback on the node (machine.logging), which only the host network reaches.
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          tolerations: [{ operator: 'Exists' }],
          priorityClassName: 'system-node-critical',
        },
      },
    }),
  ];
}

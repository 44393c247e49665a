import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, READ, clusterAccess, configHash, container, httpProbe, meta, networkPolicy, peers, rule, selectorLabels, service, serviceAccount, statefulSet, tcp, type App } from '@groundwork/kube';
import { stringify } from 'yaml';
import { RULES_DIR, prometheusConfig } from '../config/prometheus-config.ts';
import { NAMESPACE, PORTS } from '../names.ts';
import { ruleFile, ruleGroups } from '../rules/index.ts';
import { prometheusSize } from '../sizing.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const PROMETHEUS: App = { name: 'prometheus', namespace: NAMESPACE, component: 'metrics', partOf: 'observability', version: tagOf(IMAGES.prometheus) };

/** The files Prometheus reads: its configuration and one rule file per group. */
export function prometheusFiles(cluster: LoadedCluster): { config: Record<string, string>; rules: Record<string, string> } {
  const rules = Object.fromEntries(ruleGroups(cluster).map((g) => [`${g.file}.yaml`, stringify(ruleFile(g), { lineWidth: 0 })]));
  return { config: { 'prometheus.yml': stringify(prometheusConfig(cluster), { lineWidth: 0 }) }, rules };
}

/** Scrape ports on the nodes (host network): kubelet, node-exporter, the log shipper, Cilium, etcd, controller manager, scheduler, API server. */
const NODE_PORTS = [10250, PORTS.nodeExporter, PORTS.logShipperMetrics, 9962, 2381, 10257, 10259, 6443];

export function prometheus(cluster: LoadedCluster): object[] {
  const size = prometheusSize(cluster);
  const files = prometheusFiles(cluster);
  const { nodeCidr } = cluster.config.network;
  return [
    serviceAccount(PROMETHEUS),
    ...clusterAccess(PROMETHEUS, [
      rule([''], ['nodes', 'nodes/metrics', 'services', 'endpoints', 'pods'], READ),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      { nonResourceURLs: ['/metrics', '/metrics/cadvisor'], verbs: ['get'] },
    ]),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(PROMETHEUS, 'prometheus-config'), data: files.config },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(PROMETHEUS, 'prometheus-rules'), data: files.rules },
    networkPolicy(NAMESPACE, 'prometheus', {
      pods: selectorLabels(PROMETHEUS),
      // Grafana queries it; the API server's service proxy (live verify) arrives from the nodes.
      ingress: [{ peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'grafana' }), peers.cidr(nodeCidr)], ports: tcp(PORTS.prometheus) }],
      egress: [{ peers: [peers.anyPod()] }, { peers: [peers.cidr(nodeCidr)], ports: tcp(...NODE_PORTS) }],
    }),
    service(PROMETHEUS, { ports: [{ name: 'http', port: PORTS.prometheus }] }),
    statefulSet(PROMETHEUS, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'metrics have a gap while it restarts; the data on its volume stays' },
      volumeClaims: [{ name: 'data', size: size.volumeSize }],
      pod: {
        serviceAccount: PROMETHEUS.name,
        annotations: { 'groundwork.dev/config-hash': configHash(files) },
        security: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'prometheus',
            image: IMAGES.prometheus,
            goMemoryLimit: true,
            args: [
              '--config.file=/etc/prometheus/config/prometheus.yml',
              '--storage.tsdb.path=/prometheus',
              `--storage.tsdb.retention.time=${size.retentionTime}`,
              `--storage.tsdb.retention.size=${size.retentionSize}`,
              `--web.listen-address=:${PORTS.prometheus}`,
              '--web.external-url=/',
            ],
            ports: { http: PORTS.prometheus },
            resources: { cpu: '100m', memory: size.memoryRequest, memoryLimit: size.memoryLimit },
            // Replaying the write-ahead log after a restart can take minutes on a Raspberry Pi.
            startup: httpProbe('/-/ready', 'http', { periodSeconds: 10, failureThreshold: 60 }),
            liveness: httpProbe('/-/healthy', 'http', { periodSeconds: 30 }),
            readiness: httpProbe('/-/ready', 'http'),
            mounts: [
              { name: 'config', mountPath: '/etc/prometheus/config', readOnly: true },
              { name: 'rules', mountPath: RULES_DIR, readOnly: true },
              { name: 'data', mountPath: '/prometheus' },
            ],
          }),
        ],
        volumes: [
          { name: 'config', configMap: { name: 'prometheus-config' } },
          { name: 'rules', configMap: { name: 'prometheus-rules' } },
        ],
        spec: { terminationGracePeriodSeconds: 120 },
      },
    }),
  ];
}

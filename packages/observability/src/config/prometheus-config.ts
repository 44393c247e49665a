import type { LoadedCluster } from '@groundwork/cluster';
import { CATALOG } from '../catalog.ts';
import { NAMESPACE, PORTS } from '../names.ts';
import { SCRAPE_INTERVAL_SECONDS } from '../sizing.ts';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Where the rule files are mounted in the Prometheus container. */
export const RULES_DIR = '/etc/prometheus/rules';
const inCluster = { authorization: { credentials_file: `${SA}/token` }, tls_config: { ca_file: `${SA}/ca.crt` } };
const CONTROL_PLANE_LABEL = '__meta_kubernetes_node_labelpresent_node_role_kubernetes_io_control_plane';

export interface ScrapeJob {
  job_name: string;
  [key: string]: unknown;
}

const staticJob = (job: string, target: string, extra: Record<string, unknown> = {}): ScrapeJob => ({ job_name: job, static_configs: [{ targets: [target] }], ...extra });
const nodeLabel = { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' };
const nodeAddress = (port: number) => ({ source_labels: ['__meta_kubernetes_node_address_InternalIP'], target_label: '__address__', replacement: `$1:${port}` });
const controlPlanesOnly = { source_labels: [CONTROL_PLANE_LABEL], regex: 'true', action: 'keep' };

/**
 * Only the series the rules and dashboards read (the catalog), for the jobs whose programs export far more
 * than anything here looks at: measured on the real programs (npm run bench:observability), the API server
 * alone exports about 18,000 series on an idle cluster, the controller-manager and scheduler 6,000 between
 * them, and cAdvisor's grow with every container. A name added to the catalog is kept from then on.
 */
function keepCatalog(job: string): { metric_relabel_configs: object[] } {
  const names = Object.values(CATALOG).filter((source) => source.jobs.includes(job)).flatMap((source) => [...source.metrics, ...(source.hardware ?? [])]);
  return { metric_relabel_configs: [{ source_labels: ['__name__'], regex: names.length ? [...new Set(names)].sort().join('|') : 'up', action: 'keep' }] };
}

/** Jobs that scrape every node (the kubelet's own address comes from discovery: <InternalIP>:10250). */
function nodeJobs(cluster: LoadedCluster): ScrapeJob[] {
  const jobs: ScrapeJob[] = [
    { job_name: 'kubelet', scheme: 'https', ...inCluster, kubernetes_sd_configs: [{ role: 'node' }], relabel_configs: [nodeLabel], ...keepCatalog('kubelet') },
    {
      job_name: 'cadvisor',
      scheme: 'https',
      metrics_path: '/metrics/cadvisor',
      ...inCluster,
      kubernetes_sd_configs: [{ role: 'node' }],
      relabel_configs: [nodeLabel],
      ...keepCatalog('cadvisor'),
    },
    { job_name: 'node-exporter', kubernetes_sd_configs: [{ role: 'node' }], relabel_configs: [nodeAddress(PORTS.nodeExporter), nodeLabel] },
  ];
  if (cluster.config.features.cilium.enabled) jobs.push({ job_name: 'cilium-agent', kubernetes_sd_configs: [{ role: 'node' }], relabel_configs: [nodeAddress(9962), nodeLabel], ...keepCatalog('cilium-agent') });
  if (cluster.config.features.observability.controlPlaneMetrics) {
    jobs.push(
      { job_name: 'etcd', kubernetes_sd_configs: [{ role: 'node' }], relabel_configs: [controlPlanesOnly, nodeAddress(2381), nodeLabel], ...keepCatalog('etcd') },
      // Both serve a self-signed certificate on their metrics port; the token still authenticates Prometheus.
      { job_name: 'kube-controller-manager', scheme: 'https', authorization: inCluster.authorization, tls_config: { insecure_skip_verify: true }, kubernetes_sd_configs: [{ role: 'node' }], relabel_configs: [controlPlanesOnly, nodeAddress(10257), nodeLabel], ...keepCatalog('kube-controller-manager') },
      { job_name: 'kube-scheduler', scheme: 'https', authorization: inCluster.authorization, tls_config: { insecure_skip_verify: true }, kubernetes_sd_configs: [{ role: 'node' }], relabel_configs: [controlPlanesOnly, nodeAddress(10259), nodeLabel], ...keepCatalog('kube-scheduler') },
    );
  }
  return jobs;
}

/** Pods and Services opt in with the prometheus.io/scrape, /port and /path annotations. */
function annotatedJobs(): ScrapeJob[] {
  const opted = (kind: 'pod' | 'service') => {
    const prefix = `__meta_kubernetes_${kind}_annotation_prometheus_io_`;
    return [
      { source_labels: [`${prefix}scrape`], regex: 'true', action: 'keep' },
      { source_labels: [`${prefix}path`], regex: '(.+)', target_label: '__metrics_path__' },
      { source_labels: ['__address__', `${prefix}port`], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    ];
  };
  return [
    {
      job_name: 'kubernetes-pods',
      kubernetes_sd_configs: [{ role: 'pod' }],
      relabel_configs: [
        ...opted('pod'),
        // Discovery yields a target per container port; rewritten to the annotated port they collapse into one.
        { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed', action: 'drop' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], target_label: 'app' },
        // Tells apart the processes of one app, such as n8n's main, worker and webhook.
        { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'], target_label: 'component' },
      ],
    },
    {
      job_name: 'kubernetes-services',
      kubernetes_sd_configs: [{ role: 'endpointslice' }],
      relabel_configs: [...opted('service'), { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' }],
    },
  ];
}

/** prometheus.yml: what to scrape on a Talos cluster, where the rules are, which Alertmanager to call. */
export function prometheusConfig(cluster: LoadedCluster): Record<string, unknown> {
  const svc = (name: string, port: number) => `${name}.${NAMESPACE}.svc:${port}`;
  return {
    global: { scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`, scrape_timeout: '10s', evaluation_interval: `${SCRAPE_INTERVAL_SECONDS}s`, external_labels: { cluster: cluster.name } },
    rule_files: [`${RULES_DIR}/*.yaml`],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [svc('alertmanager', PORTS.alertmanager)] }] }] },
    scrape_configs: [
      staticJob('prometheus', `localhost:${PORTS.prometheus}`),
      staticJob('alertmanager', svc('alertmanager', PORTS.alertmanager)),
      // kube-state-metrics reports about other objects: their namespace and pod labels must win.
      staticJob('kube-state-metrics', svc('kube-state-metrics', PORTS.kubeStateMetrics), { honor_labels: true }),
      staticJob('victoria-logs', svc('victoria-logs', PORTS.victoriaLogs), keepCatalog('victoria-logs')),
      staticJob('grafana', svc('grafana', PORTS.grafana), keepCatalog('grafana')),
      {
        job_name: 'apiserver',
        scheme: 'https',
        ...inCluster,
        kubernetes_sd_configs: [{ role: 'endpointslice', namespaces: { names: ['default'] } }],
        relabel_configs: [{ source_labels: ['__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'], regex: 'kubernetes;https', action: 'keep' }],
        ...keepCatalog('apiserver'),
      },
      ...nodeJobs(cluster),
      ...annotatedJobs(),
    ],
  };
}

/**
 * Metric names the scrape configuration produces, by source, for the exporter versions in versions.ts.
 * Dashboards and rules may only query these (a test and verify enforce it). node-exporter, Prometheus and
 * Alertmanager names are also checked against the real binaries in the test suite, and the n8n names
 * against the real n8n by the n8n layer's end-to-end test; the others are kept by hand from the projects'
 * metric references. `hardware` marks names that only exist on some machines.
 */
export interface MetricSource {
  /** The scrape job (or jobs) that produce them. */
  jobs: string[];
  metrics: string[];
  hardware?: string[];
}

export const CATALOG: Record<string, MetricSource> = {
  'node-exporter': {
    jobs: ['node-exporter'],
    metrics: [
      'node_cpu_seconds_total',
      'node_memory_MemAvailable_bytes',
      'node_memory_MemTotal_bytes',
      'node_filesystem_avail_bytes',
      'node_filesystem_size_bytes',
      'node_filesystem_readonly',
      'node_network_receive_bytes_total',
      'node_network_transmit_bytes_total',
      'node_disk_read_bytes_total',
      'node_disk_written_bytes_total',
      'node_disk_io_time_seconds_total',
      'node_load1',
      'node_load5',
      'node_load15',
      'node_boot_time_seconds',
      'node_time_seconds',
    ],
    // The Raspberry Pi's SoC temperature; a VM usually has no thermal zone.
    hardware: ['node_thermal_zone_temp'],
  },
  'kube-state-metrics': {
    jobs: ['kube-state-metrics'],
    metrics: [
      'kube_node_info',
      'kube_node_status_condition',
      'kube_namespace_status_phase',
      'kube_pod_status_phase',
      'kube_pod_container_status_restarts_total',
      'kube_pod_container_status_waiting_reason',
      'kube_pod_container_resource_requests',
      'kube_deployment_spec_replicas',
      'kube_deployment_status_replicas_available',
      'kube_daemonset_status_desired_number_scheduled',
      'kube_daemonset_status_number_available',
      'kube_statefulset_replicas',
      'kube_statefulset_status_replicas_ready',
      'kube_cronjob_created',
      'kube_cronjob_status_last_successful_time',
      'kube_job_failed',
    ],
  },
  kubelet: {
    jobs: ['kubelet'],
    metrics: ['kubelet_running_pods', 'kubelet_certificate_manager_server_ttl_seconds'],
  },
  cadvisor: {
    jobs: ['cadvisor'],
    metrics: ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_network_receive_bytes_total', 'container_network_transmit_bytes_total'],
  },
  apiserver: {
    jobs: ['apiserver'],
    metrics: ['apiserver_request_total', 'apiserver_request_duration_seconds_bucket'],
  },
  etcd: {
    jobs: ['etcd'],
    metrics: ['etcd_server_has_leader', 'etcd_server_leader_changes_seen_total', 'etcd_mvcc_db_total_size_in_bytes', 'etcd_disk_wal_fsync_duration_seconds_bucket', 'etcd_server_proposals_failed_total'],
  },
  prometheus: {
    jobs: ['prometheus'],
    metrics: [
      'prometheus_rule_evaluation_failures_total',
      'prometheus_notifications_errors_total',
      'prometheus_notifications_alertmanagers_discovered',
      'prometheus_tsdb_compactions_failed_total',
      'prometheus_tsdb_head_series',
    ],
  },
  alertmanager: {
    jobs: ['alertmanager'],
    metrics: ['alertmanager_notifications_total', 'alertmanager_notifications_failed_total', 'alertmanager_config_last_reload_successful'],
  },
  n8n: {
    jobs: ['kubernetes-pods'],
    metrics: [
      'n8n_scaling_mode_queue_jobs_waiting',
      'n8n_scaling_mode_queue_jobs_active',
      'n8n_scaling_mode_queue_jobs_completed',
      'n8n_scaling_mode_queue_jobs_failed',
      'n8n_active_workflow_count',
      'n8n_workflow_success_total',
      'n8n_workflow_failed_total',
      'n8n_process_resident_memory_bytes',
      'n8n_process_cpu_seconds_total',
    ],
  },
  /** The log shipper's own telemetry (the OpenTelemetry Collector, scraped by annotation); checked against the real collector in logs.test.ts. */
  'log-shipper': {
    jobs: ['kubernetes-pods'],
    metrics: ['otelcol_exporter_queue_size', 'otelcol_exporter_queue_capacity', 'otelcol_receiver_accepted_log_records', 'otelcol_exporter_sent_log_records'],
  },
  /** Made by Prometheus for every target and rule, whatever the exporter. */
  synthetic: { jobs: [], metrics: ['up', 'ALERTS', 'scrape_duration_seconds', 'scrape_samples_scraped'] },
};

export const KNOWN_METRICS = new Set(Object.values(CATALOG).flatMap((s) => [...s.metrics, ...(s.hardware ?? [])]));

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2',
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  'inf', 'nan', 'start', 'end', 'Inf', 'NaN',
]);

/**
 * Metric names a PromQL expression reads. Strings, label matchers, grouping lists, durations and
 * numbers are removed first; what is left and is not a function call or keyword is a metric name.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=~?\s*"([^"]+)"/g)) names.add(m[1]!);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  for (const m of stripped.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![A-Za-z0-9_:])\s*(\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!) || /^\d/.test(name!)) continue;
    names.add(name!);
  }
  return [...names].sort();
}

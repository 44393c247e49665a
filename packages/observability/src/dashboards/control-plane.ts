import type { DashboardSpec } from './model.ts';

export const controlPlane: DashboardSpec = {
  uid: 'groundwork-control-plane',
  title: 'Talos control plane',
  description: 'etcd and the Kubernetes API server on the control planes.',
  rows: [
    {
      title: 'etcd',
      panels: [
        { title: 'Members with a leader', type: 'stat', width: 6, queries: [{ expr: 'sum(etcd_server_has_leader)' }] },
        { title: 'Leader changes (1d)', type: 'stat', width: 6, thresholds: [3, 10], queries: [{ expr: 'sum(increase(etcd_server_leader_changes_seen_total[1d]))' }] },
        { title: 'Database size', type: 'stat', width: 6, unit: 'bytes', thresholds: [1e9, 1.8e9], queries: [{ expr: 'max(etcd_mvcc_db_total_size_in_bytes)' }] },
        { title: 'Failed proposals (1h)', type: 'stat', width: 6, thresholds: [1, 10], queries: [{ expr: 'sum(increase(etcd_server_proposals_failed_total[1h]))' }] },
        { title: 'WAL fsync p99', type: 'timeseries', unit: 's', description: 'Above 0.5 s etcd struggles; SD cards are the usual cause.', queries: [{ expr: 'histogram_quantile(0.99, sum by (node, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m])))', legend: '{{node}}' }] },
        { title: 'Control-plane targets up', type: 'table', queries: [{ expr: 'up{job=~"etcd|apiserver|kube-controller-manager|kube-scheduler"}' }] },
      ],
    },
    {
      title: 'API server',
      panels: [
        { title: 'Requests by code', type: 'timeseries', unit: 'reqps', queries: [{ expr: 'sum by (code) (rate(apiserver_request_total[5m]))', legend: '{{code}}' }] },
        { title: 'Error ratio', type: 'timeseries', unit: 'percentunit', queries: [{ expr: 'sum(rate(apiserver_request_total{code=~"5.."}[5m])) / sum(rate(apiserver_request_total[5m]))', legend: '5xx' }] },
        { title: 'Latency p99 by verb', type: 'timeseries', unit: 's', width: 24, queries: [{ expr: 'histogram_quantile(0.99, sum by (verb, le) (rate(apiserver_request_duration_seconds_bucket{verb!~"WATCH|CONNECT"}[5m])))', legend: '{{verb}}' }] },
      ],
    },
  ],
};

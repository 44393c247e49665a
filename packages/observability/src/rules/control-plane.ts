import type { RuleGroup } from './model.ts';

const etcd = 'job="etcd",instance="10.0.0.11:2381",node="cp1"';
const etcdLabels = { job: 'etcd', instance: '10.0.0.11:2381', node: 'cp1' };
/** WAL fsync histogram: how many fsyncs took up to 0.1 s, up to 1 s, and all of them. */
const fsync = (fast: string, all: string): Array<[string, string]> => [
  [`etcd_disk_wal_fsync_duration_seconds_bucket{${etcd},le="0.1"}`, fast],
  [`etcd_disk_wal_fsync_duration_seconds_bucket{${etcd},le="1"}`, all],
  [`etcd_disk_wal_fsync_duration_seconds_bucket{${etcd},le="+Inf"}`, all],
];

/** etcd, the controller manager and the scheduler, scraped on the Talos control planes. */
export const controlPlaneRules: RuleGroup = {
  file: 'control-plane',
  name: 'control-plane',
  rules: [
    {
      alert: 'EtcdMemberDown',
      expr: 'up{job="etcd"} == 0',
      for: '5m',
      severity: 'critical',
      summary: 'etcd on {{ $labels.node }} is down',
      description: 'The etcd member on {{ $labels.node }} has not answered for 5 minutes; the cluster keeps quorum only while a majority is up.',
      fires: { series: [[`up{${etcd}}`, '1 0x10']], at: '10m', labels: [etcdLabels] },
      quiet: { series: [[`up{${etcd}}`, '1x10']], at: '10m' },
    },
    {
      alert: 'EtcdNoLeader',
      expr: 'etcd_server_has_leader == 0',
      for: '1m',
      severity: 'critical',
      summary: 'etcd on {{ $labels.node }} has no leader',
      description: 'The etcd member on {{ $labels.node }} sees no leader: Kubernetes cannot write anything.',
      fires: { series: [[`etcd_server_has_leader{${etcd}}`, '1 0x5']], at: '5m', labels: [etcdLabels] },
      quiet: { series: [[`etcd_server_has_leader{${etcd}}`, '1x5']], at: '5m' },
    },
    {
      alert: 'EtcdFrequentLeaderChanges',
      expr: 'increase(etcd_server_leader_changes_seen_total[1h]) > 3',
      severity: 'warning',
      summary: 'etcd on {{ $labels.node }} changed leader more than 3 times in an hour',
      description: 'Frequent leader elections usually mean slow disks or a flaky network between control planes.',
      fires: { series: [[`etcd_server_leader_changes_seen_total{${etcd}}`, '0+1x60']], at: '60m', labels: [etcdLabels] },
      quiet: { series: [[`etcd_server_leader_changes_seen_total{${etcd}}`, '1x60']], at: '60m' },
    },
    {
      alert: 'EtcdSlowDisk',
      expr: 'histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m])) > 0.5',
      for: '10m',
      severity: 'warning',
      summary: 'etcd on {{ $labels.node }} writes slowly',
      description: 'The 99th percentile of etcd write-ahead-log fsyncs on {{ $labels.node }} is over 500 ms (an SD card or a busy disk?).',
      fires: { series: fsync('0+1x30', '0+10x30'), at: '20m', labels: [etcdLabels] },
      quiet: { series: fsync('0+10x30', '0+10x30'), at: '20m' },
    },
    {
      alert: 'KubeControllerManagerDown',
      expr: 'absent(up{job="kube-controller-manager"} == 1)',
      for: '15m',
      severity: 'critical',
      summary: 'No kube-controller-manager answers',
      description: 'Prometheus has not scraped a controller manager for 15 minutes: nothing reconciles Deployments, nodes or volumes.',
      fires: { series: [['up{job="kube-controller-manager",instance="10.0.0.11:10257"}', '0x20']], at: '20m', labels: [{}] },
      quiet: { series: [['up{job="kube-controller-manager",instance="10.0.0.11:10257"}', '1x20']], at: '20m' },
    },
    {
      alert: 'KubeSchedulerDown',
      expr: 'absent(up{job="kube-scheduler"} == 1)',
      for: '15m',
      severity: 'critical',
      summary: 'No kube-scheduler answers',
      description: 'Prometheus has not scraped a scheduler for 15 minutes: new pods stay Pending.',
      fires: { series: [['up{job="kube-scheduler",instance="10.0.0.11:10259"}', '0x20']], at: '20m', labels: [{}] },
      quiet: { series: [['up{job="kube-scheduler",instance="10.0.0.11:10259"}', '1x20']], at: '20m' },
    },
  ],
};

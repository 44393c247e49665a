import type { AlertRule, RuleGroup } from './model.ts';

const fs = '{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs",mountpoint!~"/boot.*"}';
const ne = 'job="node-exporter",instance="10.0.0.11:9100",node="n1"';
const root = `${ne},device="/dev/sda4",fstype="xfs",mountpoint="/var"`;
const ksm = 'job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080"';
const free = (avail: string) => [
  [`node_filesystem_avail_bytes{${root}}`, avail],
  [`node_filesystem_size_bytes{${root}}`, '100x30'],
  [`node_filesystem_readonly{${root}}`, '0x30'],
] as Array<[string, string]>;
const rootLabels = { job: 'node-exporter', instance: '10.0.0.11:9100', node: 'n1', device: '/dev/sda4', fstype: 'xfs', mountpoint: '/var' };

/** A kubelet-reported node condition (from kube-state-metrics) that has held for 5 minutes. */
function condition(alert: string, name: string, severity: 'warning' | 'critical', summary: string, description: string): AlertRule {
  const series = `kube_node_status_condition{${ksm},node="n1",condition="${name}",status="true"}`;
  return {
    alert,
    expr: `kube_node_status_condition{condition="${name}",status="true"} == 1`,
    for: '5m',
    severity,
    summary: `{{ $labels.node }} ${summary}`,
    description,
    fires: { series: [[series, '0 1x10']], at: '10m', labels: [{ job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080', node: 'n1', condition: name, status: 'true' }] },
    quiet: { series: [[series, '0x10']], at: '10m' },
  };
}

export const nodeRules: RuleGroup = {
  file: 'nodes',
  name: 'nodes',
  rules: [
    {
      alert: 'NodeExporterDown',
      expr: 'up{job="node-exporter"} == 0',
      for: '5m',
      severity: 'critical',
      summary: 'Node {{ $labels.node }} does not answer',
      description: 'Prometheus has not reached node-exporter on {{ $labels.node }} ({{ $labels.instance }}) for 5 minutes: the node is down, or off the network.',
      fires: { series: [[`up{${ne}}`, '1 1 0x12']], at: '10m', labels: [{ job: 'node-exporter', instance: '10.0.0.11:9100', node: 'n1' }] },
      quiet: { series: [[`up{${ne}}`, '1x15']], at: '10m' },
    },
    {
      alert: 'NodeNotReady',
      expr: 'kube_node_status_condition{condition="Ready",status="true"} == 0',
      for: '10m',
      severity: 'critical',
      summary: 'Node {{ $labels.node }} is not Ready',
      description: 'The kubelet on {{ $labels.node }} has not reported Ready for 10 minutes; its pods are being evicted.',
      fires: { series: [[`kube_node_status_condition{${ksm},node="n1",condition="Ready",status="true"}`, '1 0x20']], at: '15m', labels: [{ job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080', node: 'n1', condition: 'Ready', status: 'true' }] },
      quiet: { series: [[`kube_node_status_condition{${ksm},node="n1",condition="Ready",status="true"}`, '1x20']], at: '15m' },
    },
    {
      alert: 'NodeFilesystemAlmostFull',
      expr: `node_filesystem_avail_bytes${fs} / node_filesystem_size_bytes${fs} < 0.15 and node_filesystem_readonly${fs} == 0`,
      for: '15m',
      severity: 'warning',
      problem: 'filesystem-space',
      summary: '{{ $labels.mountpoint }} on {{ $labels.node }} is almost full',
      description: 'Less than 15% of {{ $labels.mountpoint }} ({{ $labels.device }}) is free on {{ $labels.node }}; local-path volumes on it grow until it is full (nothing holds them to their claims\' sizes).',
      fires: { series: free('10x30'), at: '20m', labels: [rootLabels] },
      quiet: { series: free('40x30'), at: '20m' },
    },
    {
      alert: 'NodeFilesystemFull',
      expr: `node_filesystem_avail_bytes${fs} / node_filesystem_size_bytes${fs} < 0.05 and node_filesystem_readonly${fs} == 0`,
      for: '5m',
      severity: 'critical',
      problem: 'filesystem-space',
      summary: '{{ $labels.mountpoint }} on {{ $labels.node }} is full',
      description: 'Less than 5% of {{ $labels.mountpoint }} ({{ $labels.device }}) is free on {{ $labels.node }}; writes will start to fail.',
      fires: { series: free('3x30'), at: '10m', labels: [rootLabels] },
      quiet: { series: free('10x30'), at: '10m' },
    },
    {
      alert: 'NodeMemoryHigh',
      expr: '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.9',
      for: '15m',
      severity: 'warning',
      summary: 'Memory on {{ $labels.node }} is over 90% used',
      description: 'Less than 10% of the memory of {{ $labels.node }} has been available for 15 minutes; the kernel will soon kill processes.',
      fires: { series: [[`node_memory_MemAvailable_bytes{${ne}}`, '5x30'], [`node_memory_MemTotal_bytes{${ne}}`, '100x30']], at: '20m', labels: [{ job: 'node-exporter', instance: '10.0.0.11:9100', node: 'n1' }] },
      quiet: { series: [[`node_memory_MemAvailable_bytes{${ne}}`, '30x30'], [`node_memory_MemTotal_bytes{${ne}}`, '100x30']], at: '20m' },
    },
    condition('NodeMemoryPressure', 'MemoryPressure', 'warning', 'reports memory pressure', 'The kubelet on {{ $labels.node }} reports MemoryPressure and evicts pods to recover.'),
    condition('NodeDiskPressure', 'DiskPressure', 'critical', 'reports disk pressure', 'The kubelet on {{ $labels.node }} reports DiskPressure: it evicts pods and removes images to free space.'),
  ],
};

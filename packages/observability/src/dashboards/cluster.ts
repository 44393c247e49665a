import type { DashboardSpec } from './model.ts';

const ready = 'kube_node_status_condition{condition="Ready",status="true"}';

export const clusterOverview: DashboardSpec = {
  uid: 'groundwork-cluster',
  title: 'Cluster overview',
  description: 'Is the cluster healthy, how full is it, and what is firing.',
  rows: [
    {
      title: 'Health',
      panels: [
        { title: 'Nodes Ready', type: 'stat', width: 4, queries: [{ expr: `sum(${ready})` }] },
        { title: 'Nodes not Ready', type: 'stat', width: 4, thresholds: [1, 1], queries: [{ expr: `count(${ready} == 0) or vector(0)` }] },
        { title: 'Pods running', type: 'stat', width: 4, queries: [{ expr: 'sum(kube_pod_status_phase{phase="Running"})' }] },
        { title: 'Pods failing', type: 'stat', width: 4, thresholds: [1, 5], queries: [{ expr: 'sum(kube_pod_status_phase{phase=~"Failed|Pending"}) or vector(0)' }] },
        { title: 'Alerts firing', type: 'stat', width: 4, thresholds: [1, 3], queries: [{ expr: 'count(ALERTS{alertstate="firing",severity!="none"}) or vector(0)' }] },
        { title: 'Targets down', type: 'stat', width: 4, thresholds: [1, 3], queries: [{ expr: 'count(up == 0) or vector(0)' }] },
      ],
    },
    {
      title: 'Capacity',
      panels: [
        { title: 'CPU used', type: 'gauge', width: 6, unit: 'percentunit', min: 0, max: 1, thresholds: [0.7, 0.9], queries: [{ expr: '1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m]))' }] },
        { title: 'Memory used', type: 'gauge', width: 6, unit: 'percentunit', min: 0, max: 1, thresholds: [0.75, 0.9], queries: [{ expr: '1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes)' }] },
        { title: 'Memory requested', type: 'gauge', width: 6, unit: 'percentunit', min: 0, max: 1, thresholds: [0.75, 0.9], queries: [{ expr: 'sum(kube_pod_container_resource_requests{resource="memory"}) / sum(node_memory_MemTotal_bytes)' }] },
        { title: 'Fullest filesystem', type: 'gauge', width: 6, unit: 'percentunit', min: 0, max: 1, thresholds: [0.8, 0.9], queries: [{ expr: 'max(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"})' }] },
        { title: 'CPU by node', type: 'timeseries', unit: 'percentunit', queries: [{ expr: '1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[5m]))', legend: '{{node}}' }] },
        { title: 'Memory by node', type: 'timeseries', unit: 'percentunit', queries: [{ expr: '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes', legend: '{{node}}' }] },
      ],
    },
    {
      title: 'What is happening',
      panels: [
        { title: 'Firing alerts', type: 'table', width: 12, queries: [{ expr: 'ALERTS{alertstate="firing",severity!="none"}' }] },
        { title: 'Container restarts (1h)', type: 'table', width: 12, queries: [{ expr: 'topk(10, increase(kube_pod_container_status_restarts_total[1h]) > 0)' }] },
        { title: 'Recent error logs', type: 'logs', width: 24, height: 10, datasource: 'logs', queries: [{ expr: 'i(error) OR i(panic) OR i(fatal)' }] },
      ],
    },
  ],
};

export const nodes: DashboardSpec = {
  uid: 'groundwork-nodes',
  title: 'Nodes',
  description: 'CPU, memory, disks, network and temperature of each node.',
  variables: [{ name: 'node', label: 'Node', query: 'label_values(kube_node_info, node)' }],
  rows: [
    {
      title: 'Load',
      panels: [
        { title: 'CPU busy', type: 'timeseries', unit: 'percentunit', queries: [{ expr: '1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle",node=~"$node"}[5m]))', legend: '{{node}}' }] },
        { title: 'Load (1m) per core', type: 'timeseries', queries: [{ expr: 'node_load1{node=~"$node"} / on (node) count by (node) (node_cpu_seconds_total{mode="idle",node=~"$node"})', legend: '{{node}}' }] },
        { title: 'Memory available', type: 'timeseries', unit: 'bytes', queries: [{ expr: 'node_memory_MemAvailable_bytes{node=~"$node"}', legend: '{{node}}' }] },
        { title: 'SoC temperature', type: 'timeseries', unit: 'celsius', description: 'Raspberry Pi thermal zone (empty on machines without one).', queries: [{ expr: 'max by (node) (node_thermal_zone_temp{node=~"$node"})', legend: '{{node}}' }] },
      ],
    },
    {
      title: 'Disks and network',
      panels: [
        { title: 'Filesystem used', type: 'timeseries', unit: 'percentunit', queries: [{ expr: '1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs",node=~"$node"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs",node=~"$node"}', legend: '{{node}} {{mountpoint}}' }] },
        { title: 'Disk busy', type: 'timeseries', unit: 'percentunit', queries: [{ expr: 'rate(node_disk_io_time_seconds_total{node=~"$node"}[5m])', legend: '{{node}} {{device}}' }] },
        { title: 'Disk throughput', type: 'timeseries', unit: 'Bps', queries: [{ expr: 'sum by (node) (rate(node_disk_read_bytes_total{node=~"$node"}[5m]))', legend: '{{node}} read' }, { expr: 'sum by (node) (rate(node_disk_written_bytes_total{node=~"$node"}[5m]))', legend: '{{node}} write' }] },
        { title: 'Network', type: 'timeseries', unit: 'bps', queries: [{ expr: 'sum by (node) (rate(node_network_receive_bytes_total{device!~"lo|cilium.*|lxc.*|veth.*",node=~"$node"}[5m])) * 8', legend: '{{node}} in' }, { expr: 'sum by (node) (rate(node_network_transmit_bytes_total{device!~"lo|cilium.*|lxc.*|veth.*",node=~"$node"}[5m])) * 8', legend: '{{node}} out' }] },
        { title: 'Uptime', type: 'table', width: 24, height: 6, unit: 's', queries: [{ expr: 'node_time_seconds{node=~"$node"} - node_boot_time_seconds{node=~"$node"}' }] },
      ],
    },
  ],
};

import type { DashboardSpec } from './model.ts';

const ns = 'namespace=~"$namespace"';

export const workloads: DashboardSpec = {
  uid: 'groundwork-workloads',
  title: 'Workloads',
  description: 'What each namespace and pod uses, against what it asked for, and how often it restarts.',
  variables: [{ name: 'namespace', label: 'Namespace', query: 'label_values(kube_namespace_status_phase, namespace)' }],
  rows: [
    {
      title: 'Namespaces',
      panels: [
        { title: 'CPU by namespace', type: 'timeseries', unit: 'cores', queries: [{ expr: `sum by (namespace) (rate(container_cpu_usage_seconds_total{container!="",${ns}}[5m]))`, legend: '{{namespace}}' }] },
        { title: 'Memory by namespace', type: 'timeseries', unit: 'bytes', queries: [{ expr: `sum by (namespace) (container_memory_working_set_bytes{container!="",${ns}})`, legend: '{{namespace}}' }] },
        { title: 'Memory used against requests', type: 'table', width: 24, height: 6, unit: 'percentunit', queries: [{ expr: `sum by (namespace) (container_memory_working_set_bytes{container!="",${ns}}) / sum by (namespace) (kube_pod_container_resource_requests{resource="memory",${ns}})` }] },
      ],
    },
    {
      title: 'Pods',
      panels: [
        { title: 'CPU by pod', type: 'timeseries', unit: 'cores', queries: [{ expr: `topk(10, sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="",${ns}}[5m])))`, legend: '{{namespace}}/{{pod}}' }] },
        { title: 'Memory by pod', type: 'timeseries', unit: 'bytes', queries: [{ expr: `topk(10, sum by (namespace, pod) (container_memory_working_set_bytes{container!="",${ns}}))`, legend: '{{namespace}}/{{pod}}' }] },
        { title: 'Restarts (24h)', type: 'table', queries: [{ expr: `sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{${ns}}[24h])) > 0` }] },
        { title: 'Pods not running', type: 'table', queries: [{ expr: `sum by (namespace, pod, phase) (kube_pod_status_phase{phase!~"Running|Succeeded",${ns}}) > 0` }] },
        { title: 'Deployments short of replicas', type: 'table', queries: [{ expr: `kube_deployment_spec_replicas{${ns}} - kube_deployment_status_replicas_available{${ns}} > 0` }] },
        { title: 'Network by namespace', type: 'timeseries', unit: 'bps', queries: [{ expr: `sum by (namespace) (rate(container_network_receive_bytes_total{${ns}}[5m])) * 8`, legend: '{{namespace}} in' }, { expr: `sum by (namespace) (rate(container_network_transmit_bytes_total{${ns}}[5m])) * 8`, legend: '{{namespace}} out' }] },
        { title: 'Logs', type: 'logs', width: 24, height: 10, datasource: 'logs', queries: [{ expr: '{namespace=~"$namespace"}' }] },
      ],
    },
  ],
};

import type { DashboardSpec } from './model.ts';

export const n8n: DashboardSpec = {
  uid: 'groundwork-n8n',
  title: 'n8n',
  description: 'n8n in queue mode: the queue, executions, failures and the processes.',
  rows: [
    {
      title: 'Queue',
      panels: [
        { title: 'Waiting', type: 'stat', width: 6, thresholds: [10, 20], queries: [{ expr: 'sum(n8n_scaling_mode_queue_jobs_waiting)' }] },
        { title: 'Active', type: 'stat', width: 6, queries: [{ expr: 'sum(n8n_scaling_mode_queue_jobs_active)' }] },
        { title: 'Active workflows', type: 'stat', width: 6, queries: [{ expr: 'max(n8n_active_workflow_count)' }] },
        { title: 'Failed (1h)', type: 'stat', width: 6, thresholds: [1, 5], queries: [{ expr: 'sum(increase(n8n_workflow_failed_total[1h])) or vector(0)' }] },
        { title: 'Queue depth', type: 'timeseries', queries: [{ expr: 'sum(n8n_scaling_mode_queue_jobs_waiting)', legend: 'waiting' }, { expr: 'sum(n8n_scaling_mode_queue_jobs_active)', legend: 'active' }] },
        { title: 'Jobs completed and failed', type: 'timeseries', unit: 'ops', queries: [{ expr: 'sum(rate(n8n_scaling_mode_queue_jobs_completed[5m]))', legend: 'completed' }, { expr: 'sum(rate(n8n_scaling_mode_queue_jobs_failed[5m]))', legend: 'failed' }] },
      ],
    },
    {
      title: 'Executions and processes',
      panels: [
        { title: 'Workflow executions', type: 'timeseries', unit: 'ops', queries: [{ expr: 'sum(rate(n8n_workflow_success_total[5m]))', legend: 'succeeded' }, { expr: 'sum(rate(n8n_workflow_failed_total[5m]))', legend: 'failed' }] },
        { title: 'Memory by process', type: 'timeseries', unit: 'bytes', queries: [{ expr: 'n8n_process_resident_memory_bytes', legend: '{{pod}}' }] },
        { title: 'CPU by process', type: 'timeseries', unit: 'cores', queries: [{ expr: 'rate(n8n_process_cpu_seconds_total[5m])', legend: '{{pod}}' }] },
        { title: 'Worker logs', type: 'logs', width: 12, datasource: 'logs', queries: [{ expr: '{namespace="n8n", container="worker"}' }] },
      ],
    },
  ],
};

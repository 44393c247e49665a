import type { RuleGroup } from './model.ts';

const n8n = 'job="kubernetes-pods",namespace="n8n",app="n8n"';

/** n8n in queue mode: its metrics come with N8N_METRICS and the queue and event-bus metric groups on. */
export const n8nRules: RuleGroup = {
  file: 'n8n',
  name: 'n8n',
  rules: [
    {
      alert: 'N8nUnavailable',
      expr: 'absent(up{namespace="n8n",app="n8n",component="main"} == 1)',
      for: '5m',
      severity: 'critical',
      summary: 'n8n does not answer',
      description: 'No n8n main process has been scraped for 5 minutes: the editor, the API and webhooks are down.',
      // A worker answering does not make up for main.
      fires: { series: [[`up{${n8n},component="main",pod="n8n-0"}`, '0x10'], [`up{${n8n},component="worker",pod="n8n-worker-0"}`, '1x10']], at: '10m', labels: [{}] },
      quiet: { series: [[`up{${n8n},component="main",pod="n8n-0"}`, '1x10']], at: '10m' },
    },
    {
      alert: 'N8nQueueBacklog',
      expr: 'sum(n8n_scaling_mode_queue_jobs_waiting) > 20',
      for: '15m',
      severity: 'warning',
      summary: 'n8n executions are piling up',
      description: 'More than 20 executions have been waiting in the queue for 15 minutes: add workers or raise their concurrency.',
      fires: { series: [[`n8n_scaling_mode_queue_jobs_waiting{${n8n},pod="n8n-0"}`, '50x30']], at: '20m', labels: [{}] },
      quiet: { series: [[`n8n_scaling_mode_queue_jobs_waiting{${n8n},pod="n8n-0"}`, '2x30']], at: '20m' },
    },
    {
      alert: 'N8nExecutionsFailing',
      expr: 'sum(increase(n8n_workflow_failed_total[15m])) > 5',
      severity: 'warning',
      summary: 'n8n workflows are failing',
      description: 'More than 5 workflow executions failed in the last 15 minutes.',
      fires: { series: [[`n8n_workflow_failed_total{${n8n},pod="n8n-worker-0"}`, '0+1x30']], at: '20m', labels: [{}] },
      quiet: { series: [[`n8n_workflow_failed_total{${n8n},pod="n8n-worker-0"}`, '0x30']], at: '20m' },
    },
  ],
};

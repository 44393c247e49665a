import type { RuleGroup } from './model.ts';

const prom = 'job="prometheus",instance="localhost:9090"';
const promLabels = { job: 'prometheus', instance: 'localhost:9090' };
const am = 'job="alertmanager",instance="alertmanager.observability.svc:9093"';
const amLabels = { job: 'alertmanager', instance: 'alertmanager.observability.svc:9093' };

/** The monitoring watching itself, and the Watchdog that proves alerts get through. */
export const observabilityRules: RuleGroup = {
  file: 'observability',
  name: 'observability',
  rules: [
    {
      alert: 'Watchdog',
      expr: 'vector(1)',
      severity: 'none',
      summary: 'Alerting works',
      description: 'Always firing, so that a silent pipeline (Prometheus, rules or Alertmanager down) can be noticed from outside.',
      fires: { series: [], at: '1m', labels: [{}] },
    },
    {
      alert: 'TargetDown',
      expr: '100 * count by (job, namespace) (up == 0) / count by (job, namespace) (up) > 10',
      for: '15m',
      severity: 'warning',
      summary: 'More than 10% of the {{ $labels.job }} targets are down',
      description: 'Prometheus cannot scrape more than 10% of the targets of job {{ $labels.job }}.',
      fires: {
        series: [
          ['up{job="kubelet",instance="10.0.0.11:10250"}', '1x20'],
          ['up{job="kubelet",instance="10.0.0.12:10250"}', '0x20'],
        ],
        at: '20m',
        labels: [{ job: 'kubelet' }],
      },
      quiet: {
        series: [
          ['up{job="kubelet",instance="10.0.0.11:10250"}', '1x20'],
          ['up{job="kubelet",instance="10.0.0.12:10250"}', '1x20'],
        ],
        at: '20m',
      },
    },
    {
      alert: 'PrometheusRuleFailures',
      expr: 'increase(prometheus_rule_evaluation_failures_total[5m]) > 0',
      for: '15m',
      severity: 'warning',
      summary: 'Prometheus fails to evaluate rules',
      description: 'Rule group {{ $labels.rule_group }} keeps failing to evaluate; its alerts cannot fire.',
      fires: { series: [[`prometheus_rule_evaluation_failures_total{${prom},rule_group="rules/nodes.yaml;nodes"}`, '0+1x30']], at: '25m', labels: [{ ...promLabels, rule_group: 'rules/nodes.yaml;nodes' }] },
      quiet: { series: [[`prometheus_rule_evaluation_failures_total{${prom},rule_group="rules/nodes.yaml;nodes"}`, '0x30']], at: '25m' },
    },
    {
      alert: 'PrometheusAlertmanagerMissing',
      expr: 'max_over_time(prometheus_notifications_alertmanagers_discovered[5m]) < 1',
      for: '10m',
      severity: 'warning',
      summary: 'Prometheus has no Alertmanager to send alerts to',
      description: 'Prometheus has not found an Alertmanager for 10 minutes: alerts fire but notify nobody.',
      fires: { series: [[`prometheus_notifications_alertmanagers_discovered{${prom}}`, '0x20']], at: '20m', labels: [promLabels] },
      quiet: { series: [[`prometheus_notifications_alertmanagers_discovered{${prom}}`, '1x20']], at: '20m' },
    },
    {
      alert: 'PrometheusNotificationsFailing',
      expr: 'rate(prometheus_notifications_errors_total[5m]) > 0',
      for: '15m',
      severity: 'warning',
      summary: 'Prometheus cannot deliver alerts to Alertmanager',
      description: 'Sending alerts to {{ $labels.alertmanager }} has failed for 15 minutes.',
      fires: { series: [[`prometheus_notifications_errors_total{${prom},alertmanager="http://alertmanager.observability.svc:9093/api/v2/alerts"}`, '0+1x30']], at: '25m', labels: [{ ...promLabels, alertmanager: 'http://alertmanager.observability.svc:9093/api/v2/alerts' }] },
      quiet: { series: [[`prometheus_notifications_errors_total{${prom},alertmanager="http://alertmanager.observability.svc:9093/api/v2/alerts"}`, '0x30']], at: '25m' },
    },
    {
      alert: 'PrometheusTSDBCompactionsFailing',
      expr: 'increase(prometheus_tsdb_compactions_failed_total[3h]) > 0',
      severity: 'warning',
      summary: 'Prometheus fails to compact its storage',
      description: 'Compactions have failed in the last three hours; the volume may be full or damaged.',
      fires: { series: [[`prometheus_tsdb_compactions_failed_total{${prom}}`, '0 1x10']], at: '10m', labels: [promLabels] },
      quiet: { series: [[`prometheus_tsdb_compactions_failed_total{${prom}}`, '0x10']], at: '10m' },
    },
    {
      alert: 'AlertmanagerFailedToSendAlerts',
      expr: 'rate(alertmanager_notifications_failed_total[5m]) > 0',
      for: '5m',
      severity: 'warning',
      summary: 'Alertmanager cannot reach {{ $labels.integration }}',
      description: 'Notifications through {{ $labels.integration }} have been failing for 5 minutes: check the receiver and its credentials.',
      fires: { series: [[`alertmanager_notifications_failed_total{${am},integration="email"}`, '0+1x20']], at: '15m', labels: [{ ...amLabels, integration: 'email' }] },
      quiet: { series: [[`alertmanager_notifications_failed_total{${am},integration="email"}`, '0x20']], at: '15m' },
    },
    {
      alert: 'AlertmanagerConfigReloadFailed',
      expr: 'max_over_time(alertmanager_config_last_reload_successful[5m]) == 0',
      for: '10m',
      severity: 'warning',
      summary: 'Alertmanager rejected its configuration',
      description: 'Alertmanager runs with an older configuration: the last reload failed.',
      fires: { series: [[`alertmanager_config_last_reload_successful{${am}}`, '0x20']], at: '20m', labels: [amLabels] },
      quiet: { series: [[`alertmanager_config_last_reload_successful{${am}}`, '1x20']], at: '20m' },
    },
    {
      alert: 'LogStoreUnavailable',
      expr: 'absent(up{job="victoria-logs"} == 1)',
      for: '10m',
      severity: 'warning',
      summary: 'VictoriaLogs does not answer',
      description: 'Prometheus has not scraped VictoriaLogs for 10 minutes: logs queue on the nodes and are not searchable.',
      fires: { series: [['up{job="victoria-logs",instance="victoria-logs.observability.svc:9428"}', '0x20']], at: '15m', labels: [{}] },
      quiet: { series: [['up{job="victoria-logs",instance="victoria-logs.observability.svc:9428"}', '1x20']], at: '15m' },
    },
    {
      alert: 'LogShipperQueueFilling',
      expr: 'max by (instance) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.8',
      for: '10m',
      severity: 'warning',
      summary: 'The log shipper on {{ $labels.instance }} is about to drop lines',
      description: 'Its send queue has been over 80% full for 10 minutes: VictoriaLogs is away or too slow, and once the queue is full new lines are lost.',
      fires: {
        series: [
          ['otelcol_exporter_queue_size{job="kubernetes-pods",instance="10.0.0.21:8888",exporter="otlphttp",data_type="logs"}', '900x20'],
          ['otelcol_exporter_queue_capacity{job="kubernetes-pods",instance="10.0.0.21:8888",exporter="otlphttp",data_type="logs"}', '1000x20'],
        ],
        at: '15m',
        labels: [{ instance: '10.0.0.21:8888' }],
      },
      quiet: {
        series: [
          ['otelcol_exporter_queue_size{job="kubernetes-pods",instance="10.0.0.21:8888",exporter="otlphttp",data_type="logs"}', '3x20'],
          ['otelcol_exporter_queue_capacity{job="kubernetes-pods",instance="10.0.0.21:8888",exporter="otlphttp",data_type="logs"}', '1000x20'],
        ],
        at: '15m',
      },
    },
  ],
};

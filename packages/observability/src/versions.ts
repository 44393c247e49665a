/**
 * Every image the observability layer deploys, in one place (Renovate's regex manager bumps them). The
 * metric catalog in catalog.ts is kept for these exporter versions.
 */
export const IMAGES = {
  prometheus: 'quay.io/prometheus/prometheus:v3.14.0',
  alertmanager: 'quay.io/prometheus/alertmanager:v0.33.0',
  nodeExporter: 'quay.io/prometheus/node-exporter:v1.9.1',
  kubeStateMetrics: 'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.16.0',
  grafana: 'docker.io/grafana/grafana:13.2.0',
  loki: 'docker.io/grafana/loki:3.7.5',
  fluentBit: 'cr.fluentbit.io/fluent/fluent-bit:4.0.6',
} as const;

export const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);

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
  victoriaLogs: 'docker.io/victoriametrics/victoria-logs:v1.52.1',
  // The contrib distribution: the Kubernetes one lacks the TCP log receiver Talos's logs need.
  otelCollector: 'docker.io/otel/opentelemetry-collector-contrib:0.159.0',
} as const;

/** Grafana plugins installed when Grafana starts, pinned (plugin@version, as GF_PLUGINS_PREINSTALL_SYNC takes them). */
export const GRAFANA_PLUGINS = {
  victoriaLogs: 'victoriametrics-logs-datasource@0.31.0',
} as const;

/** The tag of an image: the one reader of image references is the kube library's. */
export { imageTag as tagOf } from '@groundwork/kube';

/** Where the observability components live and how they reach each other. */
export const NAMESPACE = 'observability';
/** node-exporter and the log shipper: they read the node itself (host namespaces, host log files). */
export const AGENTS_NAMESPACE = 'observability-agents';

export const PORTS = {
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
  victoriaLogs: 9428,
  kubeStateMetrics: 8080,
  kubeStateMetricsTelemetry: 8081,
  nodeExporter: 9100,
  /** The log shipper's own metrics and health, on the node's address (it runs in the host network). */
  logShipperMetrics: 8888,
  logShipperHealth: 13133,
} as const;

export const serviceUrl = (name: keyof typeof PORTS, service: string = name) => `http://${service}.${NAMESPACE}.svc:${PORTS[name]}`;

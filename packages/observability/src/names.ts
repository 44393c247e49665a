/** Where the observability components live and how they reach each other. */
export const NAMESPACE = 'observability';
/** node-exporter and Fluent Bit: they read the node itself (host namespaces, host log files). */
export const AGENTS_NAMESPACE = 'observability-agents';

export const PORTS = { prometheus: 9090, alertmanager: 9093, grafana: 3000, loki: 3100, kubeStateMetrics: 8080, kubeStateMetricsTelemetry: 8081, nodeExporter: 9100, fluentBit: 2020 } as const;

export const serviceUrl = (name: keyof typeof PORTS, service: string = name) => `http://${service}.${NAMESPACE}.svc:${PORTS[name]}`;

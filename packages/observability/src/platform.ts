import type { LoadedCluster } from '@groundwork/cluster';
import { renderComponents, type Component, type KubeLayer, type KubeObject } from '@groundwork/kube';
import { alertmanager } from './components/alertmanager.ts';
import { grafana } from './components/grafana.ts';
import { kubeStateMetrics } from './components/kube-state-metrics.ts';
import { logShipper } from './components/log-shipper.ts';
import { namespaces } from './components/namespaces.ts';
import { nodeExporter } from './components/node-exporter.ts';
import { prometheus } from './components/prometheus.ts';
import { victoriaLogs } from './components/victoria-logs.ts';
import { observabilityLiveChecks } from './checks/live.ts';
import { observabilityStaticChecks } from './checks/static.ts';

export const LAYER = 'observability';

/** Everything the layer renders; nothing when the cluster file leaves observability off. */
export function components(cluster: LoadedCluster): Component[] {
  if (!cluster.config.features.observability.enabled) return [];
  return [
    { name: 'namespaces', description: 'the observability namespaces and their default-deny policies', objects: namespaces(cluster) },
    { name: 'prometheus', description: 'Prometheus: scrape configuration, alert rules, one replica with a volume', objects: prometheus(cluster) },
    { name: 'alertmanager', description: 'Alertmanager with the receivers and route from the cluster file', objects: alertmanager(cluster) },
    { name: 'node-exporter', description: 'node-exporter on every node', objects: nodeExporter(cluster) },
    { name: 'kube-state-metrics', description: 'kube-state-metrics: the state of Kubernetes objects as metrics', objects: kubeStateMetrics(cluster) },
    { name: 'grafana', description: 'Grafana with provisioned datasources and dashboards, behind the Ingress', objects: grafana(cluster) },
    { name: 'victoria-logs', description: 'VictoriaLogs on a volume, with retention by age and size: the log store', objects: victoriaLogs(cluster) },
    { name: 'log-shipper', description: 'the OpenTelemetry Collector on every node, shipping container and Talos logs to VictoriaLogs', objects: logShipper(cluster) },
  ];
}

/** The objects generate renders for the cluster (its encrypted Secrets aside), for tests and measurements. */
export function renderedObjects(cluster: LoadedCluster): KubeObject[] {
  return renderComponents(LAYER, cluster, components(cluster)).flatMap((c) => c.objects);
}

export const observability: KubeLayer = { name: LAYER, components, staticChecks: observabilityStaticChecks, liveChecks: observabilityLiveChecks };

import type { LoadedCluster } from '@groundwork/cluster';
import { clusterOverview, nodes } from './cluster.ts';
import { controlPlane } from './control-plane.ts';
import type { DashboardSpec } from './model.ts';
import { n8n } from './n8n.ts';
import { workloads } from './workloads.ts';

/** The dashboards a cluster gets, by its features. */
export function dashboards(cluster: LoadedCluster): DashboardSpec[] {
  const { features } = cluster.config;
  const out = [clusterOverview, nodes, workloads];
  if (features.observability.controlPlaneMetrics) out.push(controlPlane);
  if (features.n8n.enabled) out.push(n8n);
  return out;
}

export { dashboardJson, DATASOURCES, DATASOURCE_TYPES } from './model.ts';
export type { DashboardSpec, PanelSpec, Query } from './model.ts';

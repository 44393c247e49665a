import { join } from 'node:path';
import { writeFileAtomic } from '@groundwork/kit';
import type { ClusterOutcome, LoadedCluster } from '@groundwork/cluster';
import { footprint, footprintMarkdown, footprintSummary } from '../report/footprint.ts';
import { renderedLayers } from './render.ts';

export const SUMMARY_FILE = 'footprint.md';

/**
 * The cluster's footprint over every rendered Kubernetes layer (each layer's own footprint.md ignores the
 * others; the nodes carry them all): clusters/<name>/rendered/footprint.md, rewritten whole each time.
 */
export function writeClusterFootprint(root: string, cluster: LoadedCluster): ClusterOutcome {
  const layers = renderedLayers(root, cluster.name);
  if (layers.length === 0) return { problems: [`clusters/${cluster.name}/rendered/ has no rendered layers (run: npx nx run-many -t generate --cluster=${cluster.name})`] };
  const names = layers.map((l) => l.name).join(', ');
  const report = footprint(layers.flatMap((l) => l.objects), cluster.config);
  writeFileAtomic(join(root, 'clusters', cluster.name, 'rendered', SUMMARY_FILE), footprintMarkdown(report, `${cluster.name}, all ${layers.length} Kubernetes layers (${names})`));
  return { problems: [], notes: footprintSummary(report, `cluster-wide footprint of ${names}`), summary: `rendered/${SUMMARY_FILE} written` };
}

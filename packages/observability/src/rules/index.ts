import type { LoadedCluster } from '@groundwork/cluster';
import { backupRules } from './backups.ts';
import { controlPlaneRules } from './control-plane.ts';
import { kubernetesRules } from './kubernetes.ts';
import type { RuleGroup } from './model.ts';
import { n8nRules } from './n8n.ts';
import { nodeRules } from './nodes.ts';
import { observabilityRules } from './observability.ts';

/** The rule groups a cluster gets, by its features. */
export function ruleGroups(cluster: LoadedCluster): RuleGroup[] {
  const { features } = cluster.config;
  const groups = [nodeRules, kubernetesRules, observabilityRules];
  if (features.observability.controlPlaneMetrics) groups.push(controlPlaneRules);
  if (features.n8n.enabled) groups.push(n8nRules);
  if (features.dr.enabled) groups.push(backupRules(cluster));
  return groups;
}

export { ruleFile, ruleTests } from './model.ts';
export type { AlertRule, RuleGroup } from './model.ts';

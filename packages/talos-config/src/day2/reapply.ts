import { runTargets } from '@groundwork/cluster';

/**
 * After a Kubernetes upgrade, every layer is applied again through Nx (in dependency order, as a normal apply),
 * so objects whose API or defaults moved with the new version are brought to their rendered state. talos-config's
 * own apply runs too (the other layers' applies depend on it) and finds its nodes unchanged: the upgrade's last
 * step applied exactly the rendered configs.
 */
export async function reapplyLayers(root: string, cluster: string): Promise<void> {
  const run = await runTargets({ root, target: 'apply', cluster });
  if (run.code !== 0) throw new Error(`re-applying the layers failed (${run.summary}); run: npx gw-cluster run apply --cluster=${cluster}`);
}

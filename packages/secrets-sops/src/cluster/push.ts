import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, kubeconfigPath } from '@groundwork/kit';
import type { ClusterOutcome, LoadedCluster } from '@groundwork/cluster';
import { LABELS, MANAGED_BY, applyDesiredState, applySetFor, applySummary, connect, type KubeApplyFlags, type KubeObject } from '@groundwork/kube';
import { applicableSecrets, discoverDeclarations } from './declarations.ts';
import { clusterSecretFiles, manifestPath } from './manifests.ts';
import { decryptManifest } from './source.ts';
import { LAYER } from './layer.ts';

/**
 * The Secrets under clusters/<name>/secrets/ that no layer declares (a person's own, for their own apps)
 * are applied here, decrypted in memory, as secrets-sops's ApplySet. Declared ones are applied by their
 * layer, in the same run that creates their namespace.
 */
export async function pushUndeclaredSecrets(root: string, cluster: LoadedCluster, flags: KubeApplyFlags, env: NodeJS.ProcessEnv = process.env): Promise<ClusterOutcome> {
  const declared = applicableSecrets(await discoverDeclarations(root), cluster.config);
  const byLayer = new Map<string, number>();
  for (const d of declared) byLayer.set(d.layer, (byLayer.get(d.layer) ?? 0) + 1);
  const declaredPaths = new Set(declared.map((d) => manifestPath(cluster.name, d.namespace, d.name)));
  const own = clusterSecretFiles(root, cluster.name).filter((f) => f.startsWith(`clusters/${cluster.name}/secrets/`) && !declaredPaths.has(f));
  const notes = byLayer.size ? [`declared Secrets are applied by their layers: ${[...byLayer].map(([layer, n]) => `${layer} ${n}`).join(', ')}`] : [];
  if (!env.GROUNDWORK_KUBECONFIG && !existsSync(kubeconfigPath(root, cluster.name))) {
    if (own.length) notes.push(`${own.length} Secret(s) no layer declares wait for the cluster: apply again once talos-config has fetched the kubeconfig`);
    return { problems: [], notes };
  }
  const api = connect(root, cluster.name, `groundwork-${LAYER}`, env);
  if (own.length === 0 && !(await api.get(applySetFor(LAYER).parent))) return { problems: [], notes };
  const objects: KubeObject[] = [];
  const problems: string[] = [];
  for (const path of own) {
    const secret = await decryptManifest(new Uint8Array(readFileSync(join(root, path))), cluster, path);
    const namespace = secret.metadata.namespace ?? 'default';
    if (!(await api.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }))) {
      problems.push(`${path}: namespace ${namespace} does not exist in the cluster; create it (and apply the layer that renders it) first`);
      continue;
    }
    secret.metadata.labels = { ...secret.metadata.labels, [LABELS.managedBy]: MANAGED_BY, [LABELS.layer]: LAYER, [LABELS.cluster]: cluster.name };
    objects.push(secret);
  }
  if (problems.length) return { problems, notes };
  const report = await applyDesiredState(api, { layer: LAYER, cluster: cluster.name, waves: [objects] }, { ...flags, log: createLogger(`${LAYER}:apply`), write: (text) => process.stdout.write(text) });
  return { problems: [], notes, summary: applySummary(report, flags.dryRun) };
}

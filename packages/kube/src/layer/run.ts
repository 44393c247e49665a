import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createLogger, renderedDir, replaceDirectoryAtomic, type OutputFile } from '@groundwork/kit';
import type { ClusterOutcome, LoadedCluster } from '@groundwork/cluster';
import { LABELS, MANAGED_BY } from '../build/labels.ts';
import { POD_SECURITY_LABEL, type PodSecurityLevel } from '../build/namespace.ts';
import { checkSchemas } from '../check/schema.ts';
import { isRecord, type KubeObject } from '../model/object.ts';
import { checkPolicies, formatFinding } from '../policy/rules.ts';
import { footprint, footprintMarkdown, footprintSummary } from '../report/footprint.ts';
import { resilience, resilienceMarkdown, resilienceSummary } from '../report/resilience.ts';
import { connect } from '../client/connect.ts';
import { applyDesiredState, applySummary } from '../client/apply.ts';
import type { KubeLayer, SecretSource } from './definition.ts';
import { allObjects, layerFiles, readRenderedLayer, renderComponents, renderedLayers, waves, type RenderedLayer } from './render.ts';
import { liveVerify } from './live.ts';

interface InMemory {
  rendered: RenderedLayer;
  files: OutputFile[];
  problems: string[];
  notes: string[];
}

/** Everything generate would write, computed without touching the disk. */
async function renderInMemory(root: string, cluster: LoadedCluster, layer: KubeLayer, secrets: SecretSource): Promise<InMemory> {
  const components = renderComponents(layer.name, cluster, layer.components(cluster));
  const declared = await secrets.declared(root, cluster, layer.name);
  const rendered: RenderedLayer = { layer: layer.name, cluster: cluster.name, components, secrets: declared.secrets };
  const objects = allObjects(rendered);
  const schema = await checkSchemas(objects);
  const title = `${layer.name} on ${cluster.name}`;
  const reports = {
    'footprint.md': footprintMarkdown(footprint(objects, cluster.config), title),
    'resilience.md': resilienceMarkdown(resilience(objects, cluster.config), title),
  };
  return {
    rendered,
    files: layerFiles(rendered, reports),
    problems: [...declared.problems, ...schema.problems],
    notes: [
      ...(schema.unchecked.length ? [`no schema for ${schema.unchecked.join(', ')}; checked for shape only`] : []),
      ...(declared.missing ?? []).map((m) => `not provided yet (apply refuses until it is): ${m}`),
    ],
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function generateKubeLayer(root: string, cluster: LoadedCluster, layer: KubeLayer, secrets: SecretSource): Promise<ClusterOutcome> {
  const result = await renderInMemory(root, cluster, layer, secrets);
  if (result.problems.length) return { problems: result.problems, notes: result.notes };
  replaceDirectoryAtomic(renderedDir(root, cluster.name, layer.name), result.files);
  const objects = allObjects(result.rendered).length;
  const secretCount = result.rendered.secrets.length;
  return {
    problems: [],
    notes: result.notes,
    summary: `${plural(objects, 'object')} in ${plural(result.rendered.components.length, 'component')}${secretCount ? `, ${plural(secretCount, 'encrypted Secret')}` : ''}`,
  };
}

/** Pod Security levels of namespaces other layers of the cluster render. */
function otherLayersNamespaces(layers: Array<{ name: string; objects: KubeObject[] }>, layer: string): Map<string, PodSecurityLevel> {
  const levels = new Map<string, PodSecurityLevel>();
  for (const other of layers.filter((l) => l.name !== layer)) {
    for (const ns of other.objects.filter((o) => o.kind === 'Namespace')) {
      const level = ns.metadata.labels?.[POD_SECURITY_LABEL];
      if (level) levels.set(ns.metadata.name, level as PodSecurityLevel);
    }
  }
  return levels;
}

/** A rendered Secret file must be a SOPS file: metadata with a MAC, and only ENC[…] values. */
function encryptedSecretProblems(layer: string, rendered: RenderedLayer): string[] {
  const problems: string[] = [];
  for (const secret of rendered.secrets) {
    const where = `rendered/${layer}/secrets/${secret.namespace}.${secret.name}.sops.yaml`;
    const doc = parse(Buffer.from(secret.data).toString('utf8')) as Record<string, unknown>;
    if (!isRecord(doc?.sops) || typeof doc.sops.mac !== 'string') problems.push(`${where}: not SOPS-encrypted (no sops metadata with a MAC) [secrets]`);
    for (const field of ['data', 'stringData']) {
      const values = isRecord(doc?.[field]) ? doc[field] : {};
      for (const [key, value] of Object.entries(values)) {
        if (typeof value !== 'string' || !value.startsWith('ENC[')) problems.push(`${where}: ${field}.${key} is plaintext [secrets]`);
      }
    }
  }
  return problems;
}

export async function verifyKubeLayer(root: string, cluster: LoadedCluster, layer: KubeLayer, secrets: SecretSource, env: NodeJS.ProcessEnv = process.env): Promise<ClusterOutcome> {
  const hint = `(run: npx nx run ${layer.name}:generate --cluster=${cluster.name})`;
  const rendered = readRenderedLayer(root, cluster.name, layer.name);
  if (!rendered) return { problems: [`clusters/${cluster.name}/rendered/${layer.name}/ is missing ${hint}`] };
  const problems: string[] = [];
  const notes: string[] = [];
  const expected = await renderInMemory(root, cluster, layer, secrets);
  const dir = renderedDir(root, cluster.name, layer.name);
  const stale = expected.files.find((f) => !existsSync(join(dir, f.path)) || !Buffer.from(f.data).equals(readFileSync(join(dir, f.path))));
  if (stale) problems.push(`clusters/${cluster.name}/rendered/${layer.name}/${stale.path} is stale ${hint}`);
  const objects = allObjects(rendered);
  problems.push(...(await checkSchemas(objects)).problems);
  const layers = renderedLayers(root, cluster.name);
  const warns = layer.policyWarns?.(cluster) ?? (() => false);
  for (const finding of checkPolicies(objects, { namespaces: otherLayersNamespaces(layers, layer.name) })) {
    if (warns(finding)) notes.push(`warning (features.manifests.policy: warn): ${formatFinding(finding)}`);
    else problems.push(formatFinding(finding));
  }
  problems.push(...encryptedSecretProblems(layer.name, rendered));
  for (const check of layer.staticChecks ?? []) {
    const result = await check.run({ root, cluster, objects });
    problems.push(...result.problems.map((p) => `${check.name}: ${p}`));
    notes.push(...result.notes.map((n) => `${check.name}: ${n}`));
  }
  notes.push(...footprintSummary(footprint(objects, cluster.config), `footprint of ${plural(objects.length, 'object')}`));
  // Each layer's figures ignore the others; the nodes carry them all.
  if (layers.length > 1) {
    const everything = layers.flatMap((l) => l.objects);
    notes.push(...footprintSummary(footprint(everything, cluster.config), `cluster-wide footprint of the ${layers.length} rendered layers (${layers.map((l) => l.name).join(', ')})`));
  }
  notes.push(...resilienceSummary(resilience(objects, cluster.config)));
  let summary = `${plural(objects.length, 'object')} pass schema and policy checks`;
  if (env.GROUNDWORK_LIVE) {
    const live = await liveVerify(root, cluster, layer, rendered, secrets, env);
    problems.push(...live.problems);
    notes.push(...live.notes);
    summary += '; live cluster matches';
  } else notes.push('static checks only (set GROUNDWORK_LIVE=1 to check the running cluster too)');
  return { problems, notes, summary };
}

export interface KubeApplyFlags {
  dryRun: boolean;
  forceConflicts: boolean;
  allowDataLoss: boolean;
  timeoutMs: number;
  pollMs: number;
}

/** The layer's Secrets, decrypted in memory and labelled like the rest of the layer. */
export async function decryptedSecrets(root: string, cluster: LoadedCluster, rendered: RenderedLayer, secrets: SecretSource): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const secret of rendered.secrets) {
    const object = await secrets.decrypt(root, cluster, secret);
    object.metadata.labels = { ...object.metadata.labels, [LABELS.managedBy]: MANAGED_BY, [LABELS.layer]: rendered.layer, [LABELS.cluster]: cluster.name, [LABELS.groundworkComponent]: 'secrets' };
    out.push(object);
  }
  return out;
}

/** Waves with each Secret placed in the wave that creates its namespace (the last wave when none does). */
export function wavesWithSecrets(rendered: RenderedLayer, secretObjects: KubeObject[]): KubeObject[][] {
  const byWave = waves(rendered);
  const numbers = [...new Set(rendered.components.map((c) => c.wave))].sort((a, b) => a - b);
  if (byWave.length === 0 && secretObjects.length) return [secretObjects];
  for (const secret of secretObjects) {
    const index = byWave.findIndex((objects) => objects.some((o) => o.kind === 'Namespace' && o.metadata.name === secret.metadata.namespace));
    byWave[index >= 0 ? index : numbers.length - 1]!.push(secret);
  }
  return byWave;
}

export async function applyKubeLayer(root: string, cluster: LoadedCluster, layer: KubeLayer, secrets: SecretSource, flags: KubeApplyFlags, env: NodeJS.ProcessEnv = process.env): Promise<ClusterOutcome> {
  const rendered = readRenderedLayer(root, cluster.name, layer.name);
  if (!rendered) return { problems: [`clusters/${cluster.name}/rendered/${layer.name}/ is missing (run: npx nx run ${layer.name}:generate --cluster=${cluster.name})`] };
  // A Secret this layer's workloads need and nobody has provided yet: nothing is applied until it exists.
  const missing = (await secrets.declared(root, cluster, layer.name)).missing ?? [];
  if (missing.length) return { problems: missing.map((m) => `missing secret value: ${m}`) };
  // Every line of a dry run says so.
  const log = createLogger(`${layer.name}:apply`, process.stderr, { dryRun: flags.dryRun });
  const api = connect(root, cluster.name, `groundwork-${layer.name}`, env);
  log.info(`${flags.dryRun ? 'dry run against' : 'applying to'} ${api.server} as field manager ${api.fieldManager}`);
  const secretObjects = await decryptedSecrets(root, cluster, rendered, secrets);
  const report = await applyDesiredState(
    api,
    { layer: layer.name, cluster: cluster.name, waves: wavesWithSecrets(rendered, secretObjects) },
    { ...flags, log, write: (text) => process.stdout.write(text) },
  );
  const notes = report.identity === 'recorded' ? [`recorded this API server as cluster ${cluster.name} (kube-system/groundwork-cluster)`] : [];
  return { problems: [], notes, summary: applySummary(report, flags.dryRun) };
}

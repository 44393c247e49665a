import { EXIT_CODES } from '@groundwork/cluster';
import { UserError, type Logger } from '@groundwork/kit';
import { LABELS, MANAGED_BY } from '../build/labels.ts';
import { describe, groupKind, isRecord, objectKey, type KubeObject } from '../model/object.ts';
import { PHASES, compareObjects, phaseOf } from '../model/order.ts';
import { KubeApiError, type KubeApi } from './api.ts';
import { APPLYSET, applySetFor, parentObject, readInventory, union, type Inventory } from './applyset.ts';
import { objectDiff, unchangedBy } from './diff.ts';
import { guardIdentity } from './identity.ts';
import { waitForEstablished, waitForKind, waitForRollouts } from './wait.ts';

export interface DesiredState {
  layer: string;
  cluster: string;
  /** Objects in apply waves (a layer's CNI before everything else); Secrets already decrypted, in memory only. */
  waves: KubeObject[][];
}

export interface ApplyOptions {
  dryRun: boolean;
  forceConflicts: boolean;
  /** Prune PersistentVolumeClaims, and Namespaces that still hold some, too. */
  allowDataLoss: boolean;
  timeoutMs: number;
  pollMs: number;
  log: Logger;
  /** Where --dry-run writes its diff. */
  write: (text: string) => void;
}

export interface ApplyReport {
  created: string[];
  configured: string[];
  unchanged: string[];
  pruned: string[];
  /** Objects the layer no longer renders but that hold data; kept unless --allow-data-loss. */
  kept: string[];
  /** Custom resources a dry run could not check because their kind is not served yet. */
  skipped: string[];
  identity: 'recorded' | 'matches' | 'unrecorded';
}

function conflictError(object: KubeObject, error: KubeApiError): UserError {
  const lines = error.causes.filter((c) => c.reason === 'FieldManagerConflict').map((c) => `  - ${c.message?.replace(/^conflict with /, '') ?? 'another manager'}: ${c.field ?? ''}`);
  return new UserError(
    [
      `${describe(object)}: fields this layer sets are owned by another field manager:`,
      ...(lines.length ? lines : [`  ${error.message}`]),
      'Two tools managing one object undo each other\'s changes. Stop the other one, or re-run with --force-conflicts to take these fields over.',
    ].join('\n'),
    { exitCode: EXIT_CODES.conflict },
  );
}

/**
 * Server-side apply that writes only when something would change: an existing object is dry-run first and left
 * alone when the dry run shows no difference. A field conflict surfaces from the dry run already.
 */
export async function applyIfChanged(api: KubeApi, object: KubeObject, options: { force?: boolean; live?: KubeObject | null } = {}): Promise<{ outcome: 'created' | 'configured' | 'unchanged'; result: KubeObject }> {
  const live = options.live === undefined ? await api.get(object) : (options.live ?? undefined);
  if (live) {
    const preview = await api.apply(object, { dryRun: true, force: options.force ?? false });
    if (unchangedBy(live, preview, api.fieldManager)) return { outcome: 'unchanged', result: live };
  }
  const result = await api.apply(object, { force: options.force ?? false });
  return { outcome: live ? 'configured' : 'created', result };
}

export const withMembership = (object: KubeObject, id: string): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, labels: { ...object.metadata.labels, [APPLYSET.partOf]: id } },
});

/**
 * Secrets go to the server as `data` (base64), the form it stores and returns: `stringData` is
 * write-only, so applying it would make every comparison with the live object differ.
 */
export function canonicalSecret(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || !isRecord(object.stringData)) return object;
  const { stringData, ...rest } = object;
  const data: Record<string, string> = { ...(isRecord(object.data) ? (object.data as Record<string, string>) : {}) };
  for (const [key, value] of Object.entries(stringData as Record<string, unknown>)) data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  return { ...rest, data } as KubeObject;
}

/**
 * Brings a cluster to a layer's rendered state with server-side apply: namespaces, CRDs (Established),
 * cluster RBAC, config and secrets, services, workloads, then custom resources once their kinds are
 * served; waits for rollouts wave by wave; prunes what the layer applied before and no longer renders.
 */
export async function applyDesiredState(api: KubeApi, desired: DesiredState, options: ApplyOptions): Promise<ApplyReport> {
  const { log } = options;
  const report: ApplyReport = { created: [], configured: [], unchanged: [], pruned: [], kept: [], skipped: [], identity: 'unrecorded' };
  report.identity = await guardIdentity(api, desired.cluster, { record: !options.dryRun });
  const set = applySetFor(desired.layer);
  const previous = await readInventory(api, set);
  if (previous.tooling && !previous.tooling.startsWith('groundwork/')) {
    throw new UserError(`${describe(set.parent)} is an ApplySet managed by ${previous.tooling}; groundwork will not take it over`);
  }
  const all = desired.waves.flat();
  const current = inventoryOf(all);
  if (!options.dryRun) await applyIfChanged(api, parentObject(set, desired.cluster, desired.layer, union(previous.inventory, current)));

  const newNamespaces = new Set<string>();
  for (const wave of desired.waves) {
    const sorted = [...wave].sort(compareObjects);
    for (const phase of PHASES) {
      for (const object of sorted.filter((o) => phaseOf(o) === phase)) {
        const name = describe(object);
        if (phase === 'custom' && !(await api.serves(object.apiVersion, object.kind))) {
          if (options.dryRun) {
            report.skipped.push(name);
            continue;
          }
          await waitForKind(api, object.apiVersion, object.kind, { timeoutMs: options.timeoutMs, pollMs: options.pollMs, log });
        }
        const labelled = withMembership(canonicalSecret(object), set.id);
        const live = await api.get(object);
        if (options.dryRun && object.metadata.namespace && newNamespaces.has(object.metadata.namespace)) {
          // The namespace does not exist yet, so the server cannot dry-run this; show it as new.
          report.created.push(name);
          options.write(objectDiff(undefined, labelled, name));
          continue;
        }
        if (object.kind === 'Namespace' && !live) newNamespaces.add(object.metadata.name);
        try {
          if (options.dryRun) {
            const result = await api.apply(labelled, { dryRun: true, force: options.forceConflicts });
            const diff = objectDiff(live, result, name);
            if (!live) report.created.push(name);
            else if (diff) report.configured.push(name);
            else report.unchanged.push(name);
            if (diff) options.write(diff);
            continue;
          }
          const { outcome } = await applyIfChanged(api, labelled, { force: options.forceConflicts, live: live ?? null });
          report[outcome].push(name);
          if (outcome !== 'unchanged') log.ok(`${outcome} ${name}`);
        } catch (error) {
          if (error instanceof KubeApiError && error.code === 409) throw conflictError(object, error);
          throw error;
        }
        if (phase === 'crds') await waitForEstablished(api, object, { timeoutMs: options.timeoutMs, pollMs: options.pollMs, log });
      }
    }
    if (!options.dryRun) await waitForRollouts(api, sorted, { timeoutMs: options.timeoutMs, pollMs: options.pollMs, log });
  }

  const kept = await prune(api, desired, set.id, union(previous.inventory, current), all, report, options);
  // Kept objects stay members, so a later --allow-data-loss run can still find them.
  if (!options.dryRun) await applyIfChanged(api, parentObject(set, desired.cluster, desired.layer, union(current, inventoryOf(kept))));
  return report;
}

function inventoryOf(objects: KubeObject[]): Inventory {
  return { groupKinds: objects.map(groupKind), namespaces: objects.map((o) => o.metadata.namespace).filter((n): n is string => !!n) };
}

async function prune(api: KubeApi, desired: DesiredState, id: string, inventory: Inventory, all: KubeObject[], report: ApplyReport, options: ApplyOptions): Promise<KubeObject[]> {
  const wanted = new Set(all.map(objectKey));
  const candidates: KubeObject[] = [];
  for (const gk of [...new Set(inventory.groupKinds)].sort()) {
    const dot = gk.indexOf('.');
    const kind = dot < 0 ? gk : gk.slice(0, dot);
    const group = dot < 0 ? '' : gk.slice(dot + 1);
    const version = all.find((o) => groupKind(o) === gk)?.apiVersion.split('/').pop() ?? (await api.preferredVersion(group));
    if (!version) continue; // The group is gone from the API (its CRD was removed), and with it the objects.
    const apiVersion = group ? `${group}/${version}` : version;
    if (!(await api.serves(apiVersion, kind))) continue;
    for (const live of await api.list(apiVersion, kind, { labelSelector: `${APPLYSET.partOf}=${id}` })) {
      const labels = live.metadata.labels ?? {};
      // Belt and braces: the ApplySet label alone could have been copied onto something else.
      if (labels[LABELS.managedBy] !== MANAGED_BY || labels[LABELS.layer] !== desired.layer || labels[LABELS.cluster] !== desired.cluster) continue;
      if (!wanted.has(objectKey(live))) candidates.push(live);
    }
  }
  candidates.sort((a, b) => compareObjects(b, a));
  const kept: KubeObject[] = [];
  for (const object of candidates) {
    const name = describe(object);
    if (!options.allowDataLoss && (await holdsData(api, object))) {
      kept.push(object);
      report.kept.push(name);
      options.log.warn(`kept ${name}: no longer rendered, but it holds data (delete it with --allow-data-loss)`);
      continue;
    }
    report.pruned.push(name);
    if (options.dryRun) {
      options.write(`--- live/${name}\n+++ (pruned: no longer rendered by ${desired.layer})\n`);
      continue;
    }
    await api.delete(object);
    options.log.ok(`pruned ${name} (no longer rendered)`);
  }
  return kept;
}

async function holdsData(api: KubeApi, object: KubeObject): Promise<boolean> {
  if (object.kind === 'PersistentVolumeClaim') return true;
  if (object.kind !== 'Namespace') return false;
  return (await api.list('v1', 'PersistentVolumeClaim', { namespace: object.metadata.name })).length > 0;
}

/** One line for the end of an apply. */
export function applySummary(report: ApplyReport, dryRun: boolean): string {
  const parts: string[] = [];
  if (report.created.length) parts.push(`${report.created.length} ${dryRun ? 'to create' : 'created'}`);
  if (report.configured.length) parts.push(`${report.configured.length} ${dryRun ? 'to change' : 'configured'}`);
  if (report.pruned.length) parts.push(`${report.pruned.length} ${dryRun ? 'to prune' : 'pruned'}`);
  if (report.kept.length) parts.push(`${report.kept.length} kept (hold data)`);
  if (report.skipped.length) parts.push(`${report.skipped.length} not checked (kind not served yet)`);
  const total = report.created.length + report.configured.length + report.unchanged.length;
  if (parts.length === 0) return `no changes: all ${total} objects are as rendered`;
  return `${parts.join(', ')}; ${report.unchanged.length} unchanged`;
}


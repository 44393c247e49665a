import { isDeepStrictEqual } from 'node:util';
import { isRecord, type KubeObject } from '../model/object.ts';
import { toYamlStream } from '../model/yaml.ts';
import { APPLYSET } from './applyset.ts';

/** Server-maintained metadata that says nothing about the desired state. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'selfLink'];

/**
 * The part of an object worth comparing: no status, no server bookkeeping, and Secret values replaced by
 * a marker (never the value, never a hash of it). With `changedFrom`, values that differ from that
 * object's are marked as changed, so a diff can say a secret changed without showing it.
 */
export function comparable(object: KubeObject, changedFrom?: KubeObject): KubeObject {
  const copy = structuredClone(object);
  delete copy.status;
  for (const key of SERVER_METADATA) delete copy.metadata[key];
  if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  if (copy.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const values = copy[field];
      if (!isRecord(values)) continue;
      const before = changedFrom && isRecord(changedFrom[field]) ? (changedFrom[field] as Record<string, unknown>) : undefined;
      for (const key of Object.keys(values)) values[key] = before && key in before && before[key] !== values[key] ? '***(changed)***' : '***';
    }
  }
  return copy;
}

/** What `manager` owns, without timestamps: which fields an apply takes is part of what it changes. */
function ownership(object: KubeObject, manager: string): unknown {
  const entries = Array.isArray(object.metadata.managedFields) ? (object.metadata.managedFields as Array<Record<string, unknown>>) : [];
  return entries.filter((entry) => entry.manager === manager).map(({ time: _time, ...rest }) => rest);
}

/**
 * Whether a server-side dry run of an apply by `manager` left the object exactly as it is live: same fields,
 * same values (Secret values included: this never prints anything) and the same fields owned by `manager`.
 * Flux applies the same way: dry run first, then a real apply only for objects that would change, so an
 * unchanged cluster sees no writes. Status, and what other managers own (a controller writing status between
 * the read and the dry run), do not count.
 */
export function unchangedBy(live: KubeObject, dryRun: KubeObject, manager: string): boolean {
  const state = (object: KubeObject) => {
    const copy = structuredClone(object);
    delete copy.status;
    for (const key of SERVER_METADATA) delete copy.metadata[key];
    return copy;
  };
  return isDeepStrictEqual(state(live), state(dryRun)) && isDeepStrictEqual(ownership(live, manager), ownership(dryRun, manager));
}

/** Leaf field paths whose values differ (`spec.replicas`, `data.token`), for drift reports. */
export function differingFields(live: unknown, desired: unknown, path = ''): string[] {
  if (isDeepStrictEqual(live, desired)) return [];
  if (isRecord(live) && isRecord(desired)) {
    const keys = [...new Set([...Object.keys(live), ...Object.keys(desired)])].sort();
    return keys.flatMap((k) => differingFields(live[k], desired[k], path ? `${path}.${k}` : k));
  }
  return [path || '(object)'];
}

/** Drift between what is live and what a dry-run apply of the rendered object would make it. */
export function drift(live: KubeObject, dryRun: KubeObject): string[] {
  return differingFields(comparable(live), comparable(dryRun, live)).filter((f) => f !== `metadata.labels.${APPLYSET.partOf}`);
}

/** A unified diff (3 lines of context) of two texts; empty when they are equal. */
export function unifiedDiff(before: string, after: string, labels: [string, string]): string {
  const a = before ? before.split('\n') : [];
  const b = after ? after.split('\n') : [];
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) ops.push({ op: ' ', line: a[i++]! }), j++;
    else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ op: '-', line: a[i++]! });
    else ops.push({ op: '+', line: b[j++]! });
  }
  while (i < n) ops.push({ op: '-', line: a[i++]! });
  while (j < m) ops.push({ op: '+', line: b[j++]! });
  if (!ops.some((o) => o.op !== ' ')) return '';
  const keep = ops.map((_, k) => ops.slice(Math.max(0, k - 3), k + 4).some((x) => x.op !== ' '));
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  let skipped = false;
  for (const [k, o] of ops.entries()) {
    if (!keep[k]) {
      skipped = true;
      continue;
    }
    if (skipped) out.push('@@ … @@');
    skipped = false;
    out.push(`${o.op}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}

/** The diff `--dry-run` prints for one object: live against what the server says apply would produce. */
export function objectDiff(live: KubeObject | undefined, desired: KubeObject, name: string): string {
  const after = comparable(desired, live);
  const before = live ? comparable(live) : undefined;
  const text = (o: KubeObject | undefined) => (o ? toYamlStream([o]).replace(/^---\n/, '') : '');
  return unifiedDiff(text(before), text(after), [`live/${name}`, `desired/${name}`]);
}

/**
 * Every backup object is named after its cluster, its kind and the UTC second it was taken, so a bucket
 * listing reads as a history and retention never needs anything but the names:
 *   <prefix>/<cluster>/<kind>/<cluster>-<kind>-20261130T013000Z.<ext>.age
 */

export const KINDS = ['etcd', 'postgres', 'n8n'] as const;
export type Kind = (typeof KINDS)[number];

/** What each kind's plaintext is, as a file extension. */
export const EXTENSIONS: Record<Kind, string> = { etcd: 'db', postgres: 'dump', n8n: 'json' };

export interface BackupName {
  cluster: string;
  kind: Kind;
  /** Epoch milliseconds, whole seconds. */
  takenAt: number;
  /** The object's file name (no folder). */
  file: string;
}

export function isKind(text: string): text is Kind {
  return (KINDS as readonly string[]).includes(text);
}

export function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export function backupFile(cluster: string, kind: Kind, takenAt: number): string {
  return `${cluster}-${kind}-${stamp(takenAt)}.${EXTENSIONS[kind]}.age`;
}

/** The folder (key prefix) of one cluster's backups of one kind, under an optional prefix. */
export function kindFolder(prefix: string | undefined, cluster: string, kind: Kind): string {
  return [prefix, cluster, kind].filter(Boolean).join('/');
}

/**
 * Reads a backup's name back; anything else in the folder (a file a person put there, another tool's) is
 * not a backup of ours and is never counted, kept or deleted.
 */
export function parseBackupFile(file: string, cluster: string, kind: Kind): BackupName | undefined {
  const match = /^(.+)-([a-z0-9]+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.([a-z]+)\.age$/.exec(file);
  if (!match || match[1] !== cluster || match[2] !== kind || match[9] !== EXTENSIONS[kind]) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(3, 9).map(Number) as [number, number, number, number, number, number];
  const takenAt = Date.UTC(y, mo - 1, d, h, mi, s);
  if (stamp(takenAt) !== `${match.slice(3, 6).join('')}T${match.slice(6, 9).join('')}Z`) return undefined;
  return { cluster, kind, takenAt, file };
}

/**
 * Picks a backup: the newest (`latest`), the newest taken at or before a time (an ISO date or date-time,
 * UTC when no zone is given), or one by its file name.
 */
export function pickBackup(backups: BackupName[], at: string = 'latest'): BackupName | undefined {
  const sorted = [...backups].sort((a, b) => b.takenAt - a.takenAt);
  if (at === 'latest') return sorted[0];
  const byName = sorted.find((b) => b.file === at);
  if (byName) return byName;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(at) ? `${at}T23:59:59Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(at) ? at : `${at}Z`;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new Error(`--at: "${at}" is not latest, a backup file name or a time such as 2026-11-30T01:30:00Z`);
  return sorted.find((b) => b.takenAt <= time);
}

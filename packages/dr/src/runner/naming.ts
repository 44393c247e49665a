/**
 * Every backup object is named after its cluster, its kind and the UTC second it was taken, so a bucket
 * listing reads as a history and retention never needs anything but the names:
 *   <prefix>/<cluster>/<kind>/<cluster>-<kind>-20261130T013000Z.<ext>.age
 */

export const KINDS = ['etcd', 'postgres', 'n8n'] as const;
/**
 * The fixed kinds, db-<app> (the dump of an app's own PostgreSQL) and vol-<app>-<volume> (an archive of an
 * app's volume), for the apps of clusters/<name>/apps/.
 */
export type Kind = (typeof KINDS)[number] | `db-${string}` | `vol-${string}`;

const APP_DATABASE = /^db-[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const APP_VOLUME = /^vol-[a-z0-9]([-a-z0-9]{0,120}[a-z0-9])?$/;

/** A kind whose plaintext is a gzip-compressed tar archive. */
export const isVolumeArchive = (kind: Kind) => kind.startsWith('vol-');

/** A kind whose plaintext is a pg_dump archive. */
export const isDatabaseDump = (kind: Kind) => kind === 'postgres' || kind.startsWith('db-');

/** What each kind's plaintext is, as a file extension. */
export function extensionOf(kind: Kind): string {
  if (kind === 'etcd') return 'db';
  if (kind === 'n8n') return 'json';
  if (isVolumeArchive(kind)) return 'tgz';
  return 'dump';
}

export interface BackupName {
  cluster: string;
  kind: Kind;
  /** Epoch milliseconds, whole seconds. */
  takenAt: number;
  /** The object's file name (no folder). */
  file: string;
}

export function isKind(text: string): text is Kind {
  return (KINDS as readonly string[]).includes(text) || APP_DATABASE.test(text) || APP_VOLUME.test(text);
}

export function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export function backupFile(cluster: string, kind: Kind, takenAt: number): string {
  return `${cluster}-${kind}-${stamp(takenAt)}.${extensionOf(kind)}.age`;
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
  // Cluster names and app kinds both contain hyphens: the expected prefix is matched, not guessed.
  const prefix = `${cluster}-${kind}-`;
  if (!file.startsWith(prefix)) return undefined;
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.([a-z]+)\.age$/.exec(file.slice(prefix.length));
  if (!match || match[7] !== extensionOf(kind)) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const takenAt = Date.UTC(y, mo - 1, d, h, mi, s);
  if (stamp(takenAt) !== `${match.slice(1, 4).join('')}T${match.slice(4, 7).join('')}Z`) return undefined;
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

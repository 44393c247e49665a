import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptFile, readIdentities } from './crypto.ts';
import { IntegrityError, checkBackup, type N8nExport } from './integrity.ts';
import { kindFolder, parseBackupFile, pickBackup, type BackupName, type Kind } from './naming.ts';
import { prefixFor, targetsOf, type Settings } from './settings.ts';
import type { Target } from './targets.ts';

/**
 * What fetch writes is readable by the group too: in a pod the next step (pg_restore, n8n's import) runs as
 * another user that shares the pod's fsGroup, and the work folder is the pod's alone.
 */
const SHARED_MODE = 0o640;

export interface StoredBackup extends BackupName {
  size: number;
  target: string;
}

/** A fetched backup's description, written next to it as `<out>.json` for the steps that follow. */
export interface FetchedBackup {
  kind: Kind;
  file: string;
  takenAt: string;
  target: string;
  bytes: number;
  check: string;
}

export async function listBackups(settings: Settings, target: Target, kind: Kind): Promise<StoredBackup[]> {
  const folder = kindFolder(prefixFor(settings, target), settings.cluster, kind);
  const out: StoredBackup[] = [];
  for (const object of await target.list(folder)) {
    const name = parseBackupFile(object.file, settings.cluster, kind);
    if (name) out.push({ ...name, size: object.size, target: target.label });
  }
  return out.sort((a, b) => b.takenAt - a.takenAt);
}

/** The n8n bundle split back into the two files n8n's import commands read. */
function unpackN8nExport(file: string, dir: string): void {
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as N8nExport;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'workflows.json'), `${JSON.stringify(bundle.workflows, null, 2)}\n`, { mode: SHARED_MODE });
  writeFileSync(join(dir, 'credentials.json'), `${JSON.stringify(bundle.credentials, null, 2)}\n`, { mode: SHARED_MODE });
}

/** A rename, or across file systems a copy that appears only when complete. */
function moveInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, `${to}.partial`);
    renameSync(`${to}.partial`, to);
  }
}

export interface FetchOptions {
  /** `latest`, a time, or a file name (see pickBackup). */
  at?: string;
  /** Only this kind of target (`s3` or `volume`); otherwise the first that has a backup. */
  from?: 's3' | 'volume';
  identities?: string[];
}

/**
 * Downloads a backup, decrypts it and checks it, into `out` (a file; for n8n exports a folder with
 * workflows.json and credentials.json). Nothing is left at `out` unless every step succeeded.
 */
export async function fetchBackup(settings: Settings, kind: Kind, out: string, options: FetchOptions = {}): Promise<FetchedBackup> {
  const identities = options.identities ?? (settings.identityFile ? readIdentities(settings.identityFile) : undefined);
  if (!identities) throw new Error('no age identity to decrypt with (DR_AGE_IDENTITY_FILE)');
  const targets = targetsOf(settings).filter((t) => !options.from || t.type === options.from);
  let chosen: StoredBackup | undefined;
  let source: Target | undefined;
  for (const target of targets) {
    chosen = pickBackup(await listBackups(settings, target, kind), options.at) as StoredBackup | undefined;
    if (chosen) {
      source = target;
      break;
    }
  }
  if (!chosen || !source) throw new Error(`no ${kind} backup of ${settings.cluster}${options.at && options.at !== 'latest' ? ` at or before ${options.at}` : ''} in ${targets.map((t) => t.label).join(' or ')}`);
  const folder = kindFolder(prefixFor(settings, source), settings.cluster, kind);
  mkdirSync(settings.work, { recursive: true });
  const encrypted = join(settings.work, `.${chosen.file}.download`);
  const plain = join(settings.work, `.${chosen.file.replace(/\.age$/, '')}.plain`);
  try {
    await source.get(folder, chosen.file, encrypted);
    await decryptFile(encrypted, plain, identities, `${source.label}/${folder}/${chosen.file}`);
    let check: string;
    try {
      check = await checkBackup(kind, plain);
    } catch (error) {
      throw new IntegrityError(`${chosen.file} decrypted, but ${(error as Error).message}`);
    }
    if (kind === 'n8n') unpackN8nExport(plain, out);
    else {
      moveInto(plain, out);
      chmodSync(out, SHARED_MODE);
    }
    const fetched: FetchedBackup = { kind, file: chosen.file, takenAt: new Date(chosen.takenAt).toISOString(), target: source.label, bytes: chosen.size, check };
    writeFileSync(`${out}.json`, `${JSON.stringify(fetched, null, 2)}\n`);
    return fetched;
  } finally {
    rmSync(encrypted, { force: true });
    rmSync(plain, { force: true });
  }
}

import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptFile, readRecipients } from './crypto.ts';
import { N8N_EXPORT_FORMAT, checkBackup } from './integrity.ts';
import { backupFile, kindFolder, parseBackupFile, type Kind } from './naming.ts';
import { keep } from './retention.ts';
import { prefixFor, targetsOf, type Settings } from './settings.ts';
import type { Target } from './targets.ts';

export type Log = (line: string) => void;

export interface StoreReport {
  file: string;
  check: string;
  encryptedBytes: number;
  targets: Array<{ label: string; kept: number; deleted: string[] }>;
}

/** n8n's two exports (each a JSON array; credentials absent when the instance has none) as one document. */
export function bundleN8nExport(dir: string, cluster: string, destination: string): void {
  const read = (name: string) => (existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as unknown[]) : []);
  writeFileSync(destination, `${JSON.stringify({ format: N8N_EXPORT_FORMAT, cluster, workflows: read('workflows.json'), credentials: read('credentials.json') })}\n`, { mode: 0o600 });
}

/** Deletes what the retention policy does not keep; names that are not ours are never touched. */
export async function applyRetention(target: Target, folder: string, settings: Settings, kind: Kind, log: Log): Promise<{ kept: number; deleted: string[] }> {
  const backups = (await target.list(folder)).map((o) => parseBackupFile(o.file, settings.cluster, kind)).filter((b) => b !== undefined);
  const kept = keep(backups.map((b) => b.takenAt), settings.retention);
  const deleted: string[] = [];
  for (const backup of backups) {
    if (kept.has(backup.takenAt)) continue;
    await target.remove(folder, backup.file);
    deleted.push(backup.file);
    log(`${target.label}: deleted ${folder}/${backup.file} (retention)`);
  }
  return { kept: kept.size, deleted };
}

/**
 * Checks a backup's plaintext, encrypts it to the cluster's recipients, stores it in every target and
 * enforces retention there. A target that fails does not stop the others; the run still fails at the end,
 * so the job's status shows it.
 */
export async function storeBackup(settings: Settings, kind: Kind, source: string, log: Log, now: number = Date.now()): Promise<StoreReport> {
  if (!settings.recipientsFile) throw new Error('no recipients file (DR_RECIPIENTS_FILE)');
  const recipients = readRecipients(settings.recipientsFile);
  const takenAt = Math.floor(now / 1000) * 1000;
  const file = backupFile(settings.cluster, kind, takenAt);
  let plain = source;
  if (kind === 'n8n' && statSync(source).isDirectory()) {
    plain = join(settings.work, `${file.replace(/\.age$/, '')}`);
    bundleN8nExport(source, settings.cluster, plain);
  }
  const check = await checkBackup(kind, plain);
  log(`checked ${check}`);
  const encrypted = join(settings.work, file);
  await encryptFile(plain, encrypted, recipients);
  const encryptedBytes = statSync(encrypted).size;
  log(`encrypted to ${recipients.length} age recipient${recipients.length === 1 ? '' : 's'}: ${file} (${encryptedBytes} bytes)`);
  const report: StoreReport = { file, check, encryptedBytes, targets: [] };
  const failures: string[] = [];
  try {
    for (const target of targetsOf(settings)) {
      const folder = kindFolder(prefixFor(settings, target), settings.cluster, kind);
      try {
        await target.put(folder, file, encrypted);
        log(`${target.label}: stored ${folder}/${file}`);
        report.targets.push({ label: target.label, ...(await applyRetention(target, folder, settings, kind, log)) });
      } catch (error) {
        failures.push(`${target.label}: ${(error as Error).message}`);
        log(`${target.label}: FAILED: ${(error as Error).message}`);
      }
    }
  } finally {
    rmSync(encrypted, { force: true });
  }
  if (failures.length) throw new Error(`the backup was not stored everywhere:\n  ${failures.join('\n  ')}`);
  return report;
}

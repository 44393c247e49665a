import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FetchedBackup } from './fetch.ts';

/**
 * The verdict of a restore drill, from what the restore left in the work folder: which backup it was, how
 * old, whether n8n's tables came back and how many rows they hold. The same code judges a drill run as a
 * Job and one run on a workstation.
 */

export interface DrillCheck {
  name: string;
  ok: boolean;
  /** A warning is reported but does not fail the drill. */
  warning?: boolean;
  detail: string;
}

export interface DrillReport {
  ok: boolean;
  backup: string;
  takenAt: string;
  ageSeconds: number;
  restoreSeconds?: number;
  tables: Record<string, number>;
  newestExecution?: string;
  checks: DrillCheck[];
}

/** n8n's core tables: a database without them is not an n8n database, however well it restored. */
export const N8N_TABLES = ['workflow_entity', 'credentials_entity', 'execution_entity', 'migrations', 'user', 'settings'];

const hours = (seconds: number) => `${(seconds / 3600).toFixed(seconds < 36_000 ? 1 : 0)}h`;

export interface DrillCriteria {
  /** How old the backup may be (the schedule's allowance). */
  allowedAgeSeconds: number;
  requiredTables: string[];
  now?: number;
}

export function judgeDrill(work: string, dump: string, criteria: DrillCriteria): DrillReport {
  const now = criteria.now ?? Date.now();
  const fetched = JSON.parse(readFileSync(`${dump}.json`, 'utf8')) as FetchedBackup;
  const results = join(work, 'drill');
  const tables: Record<string, number> = {};
  for (const line of readFileSync(join(results, 'tables.tsv'), 'utf8').split('\n').filter(Boolean)) {
    const [name, count] = line.split('\t');
    tables[name!] = Number(count);
  }
  const ageSeconds = Math.round((now - Date.parse(fetched.takenAt)) / 1000);
  const checks: DrillCheck[] = [];
  checks.push({
    name: 'age',
    ok: ageSeconds <= criteria.allowedAgeSeconds,
    detail: `${fetched.file} was taken ${hours(ageSeconds)} ago; the schedule allows ${hours(criteria.allowedAgeSeconds)}`,
  });
  const missing = criteria.requiredTables.filter((t) => !(t in tables));
  checks.push({ name: 'tables', ok: missing.length === 0, detail: missing.length ? `missing after restore: ${missing.join(', ')}` : `${Object.keys(tables).length} tables restored, n8n's ${criteria.requiredTables.length} core tables among them` });
  const migrations = tables.migrations ?? 0;
  checks.push({
    name: 'rows',
    ok: migrations > 0,
    detail: `${tables.workflow_entity ?? 0} workflows, ${tables.credentials_entity ?? 0} credentials, ${tables.execution_entity ?? 0} executions, ${migrations} migrations`,
  });
  const newestFile = join(results, 'newest-execution');
  const newestExecution = existsSync(newestFile) ? readFileSync(newestFile, 'utf8').trim() || undefined : undefined;
  if (newestExecution) {
    const behind = Math.round((Date.parse(fetched.takenAt) - Date.parse(newestExecution)) / 1000);
    // An idle instance runs nothing for days; that is a warning to look at, not a broken backup.
    checks.push({
      name: 'executions',
      ok: behind <= criteria.allowedAgeSeconds,
      warning: behind > criteria.allowedAgeSeconds,
      detail: `the newest execution in the backup started ${hours(Math.max(behind, 0))} before it was taken`,
    });
  } else {
    checks.push({ name: 'executions', ok: true, warning: true, detail: 'the backup holds no execution' });
  }
  const restoreFile = join(results, 'restore-seconds');
  return {
    ok: checks.every((c) => c.ok || c.warning),
    backup: fetched.file,
    takenAt: fetched.takenAt,
    ageSeconds,
    ...(existsSync(restoreFile) ? { restoreSeconds: Number(readFileSync(restoreFile, 'utf8')) } : {}),
    tables,
    ...(newestExecution ? { newestExecution } : {}),
    checks,
  };
}

export function formatDrill(report: DrillReport): string {
  const lines = [`drill of ${report.backup} (taken ${report.takenAt}${report.restoreSeconds !== undefined ? `, restored in ${report.restoreSeconds}s` : ''}): ${report.ok ? 'PASSED' : 'FAILED'}`];
  for (const check of report.checks) lines.push(`  ${check.ok && !check.warning ? '✓' : check.warning ? '!' : '✗'} ${check.name}: ${check.detail}`);
  return `${lines.join('\n')}\n`;
}

/** The report as a termination message: compact JSON, at most the 4 KiB the kubelet keeps. */
export function terminationMessage(report: DrillReport): string {
  const { tables, ...rest } = report;
  const core = Object.fromEntries(Object.entries(tables).filter(([name]) => N8N_TABLES.includes(name)));
  return JSON.stringify({ ...rest, tables: core }).slice(0, 4096);
}

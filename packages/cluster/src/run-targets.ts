import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from './exit-codes.ts';

/**
 * Running a target over every layer through Nx with an exit code that tells the truth. Nx 23 folds every
 * failure into 1, and when a failed task leaves dependent tasks unrun it exits 130, the code of Ctrl-C (its
 * run counts the skipped tasks as never finished). So each layer script records its own exit code in a report
 * (GROUNDWORK_EXIT_REPORT) and this wrapper exits with the most specific code a layer gave, naming the tasks
 * that failed and those that did not run; 130 only when it was interrupted itself.
 */

export const EXIT_REPORT_ENV = 'GROUNDWORK_EXIT_REPORT';

/** Called by every layer script as it exits: one `task code` line when the wrapper asked for a report. */
export function recordExit(task: string, code: number, env: NodeJS.ProcessEnv = process.env): void {
  const path = env[EXIT_REPORT_ENV];
  if (path) appendFileSync(path, `${JSON.stringify({ task, code })}\n`);
}

/** Which failure wins when several layers failed differently: the more specific, the earlier. */
const PRIORITY = [EXIT_CODES.otherCluster, EXIT_CODES.conflict, EXIT_CODES.refused, EXIT_CODES.unreachable, EXIT_CODES.usage, EXIT_CODES.problems];

export interface TargetRun {
  code: number;
  failed: Array<{ task: string; code: number }>;
  succeeded: string[];
  summary: string;
}

export function summarize(nxCode: number | null, signal: NodeJS.Signals | null, interrupted: boolean, report: Array<{ task: string; code: number }>): TargetRun {
  const failed = report.filter((r) => r.code !== 0);
  const succeeded = report.filter((r) => r.code === 0).map((r) => r.task);
  if (interrupted) return { code: 130, failed, succeeded, summary: 'interrupted' };
  if (nxCode === 0 && !signal) return { code: 0, failed, succeeded, summary: `${succeeded.length} task(s) done` };
  if (failed.length === 0) {
    // A task that died before its script could report (a syntax error, a missing dependency), or Nx itself.
    const reported = succeeded.length ? `; ${succeeded.length} task(s) reported success, the failed one reported nothing` : '';
    return { code: EXIT_CODES.problems, failed, succeeded, summary: `nx exited ${nxCode ?? signal} without a failing layer script's report${reported}: see the output above` };
  }
  const code = PRIORITY.find((c) => failed.some((f) => f.code === c)) ?? failed[0]!.code;
  const unrun = nxCode === 130 ? '; the tasks that depend on them did not run' : '';
  return { code, failed, succeeded, summary: `failed: ${failed.map((f) => `${f.task} (exit ${f.code})`).join(', ')}${unrun}` };
}

export interface RunTargetOptions {
  root: string;
  target: string;
  cluster: string;
  env?: NodeJS.ProcessEnv;
  /** Extra nx arguments (e.g. --exclude=talos-config). */
  extra?: string[];
}

export function runTargets(options: RunTargetOptions): Promise<TargetRun> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-run-'));
  const report = join(dir, 'exits.jsonl');
  const nx = join(options.root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
  const env = { ...(options.env ?? process.env), [EXIT_REPORT_ENV]: report };
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  return new Promise<TargetRun>((resolve, reject) => {
    const child = spawn(process.execPath, [nx, 'run-many', '-t', options.target, `--cluster=${options.cluster}`, ...(options.extra ?? [])], { cwd: options.root, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const lines = existsSync(report) ? readFileSync(report, 'utf8').split('\n').filter(Boolean) : [];
      resolve(summarize(code, signal, interrupted, lines.map((l) => JSON.parse(l) as { task: string; code: number })));
    });
  }).finally(() => {
    process.off('SIGINT', onSigint);
    rmSync(dir, { recursive: true, force: true });
  });
}

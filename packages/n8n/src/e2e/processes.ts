import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess, until } from '@groundwork/testkit/services';
import { SANDBOX } from '@groundwork/testkit/sandbox';

export interface N8nProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  log(): string;
  /** Resident memory of the process and its children (the task runner) now, and at their peak, in bytes. */
  memory(): { rss: number; peak: number };
  stop(timeoutMs: number): ReturnType<typeof stopProcess>;
}

export interface ProcessOptions {
  name: string;
  /** The n8n CLI script and the arguments the rendered container passes it. */
  bin: string;
  args: string[];
  env: Record<string, string>;
  /** Stands in for the pod's writable mounts: the home emptyDir and /tmp. */
  home: string;
  tmp: string;
  dir: string;
}

function statusOf(pid: number): Record<string, number> {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Object.fromEntries([...text.matchAll(/^(VmRSS|VmHWM):\s+(\d+) kB/gm)].map((m) => [m[1]!, Number(m[2]) * 1024]));
  } catch {
    return {};
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/**
 * Starts one n8n process the way its container runs: `n8n <args>` with exactly the given environment
 * (no inherited variables), on Node 24, and, where bubblewrap is installed, on a read-only root filesystem.
 */
export function startN8n(options: ProcessOptions): N8nProcess {
  mkdirSync(options.home, { recursive: true });
  mkdirSync(options.tmp, { recursive: true });
  const logFile = join(options.dir, `${options.name}.log`);
  const out = openSync(logFile, 'w');
  const command = [process.execPath, options.bin, ...options.args];
  const sandbox = SANDBOX.ok ? ['bwrap', '--ro-bind', '/', '/', '--bind', options.home, options.home, '--bind', options.tmp, options.tmp, '--dev', '/dev', '--proc', '/proc', '--die-with-parent', '--'] : [];
  const [cmd, ...args] = [...sandbox, ...command];
  const env = { ...options.env, HOME: options.home, TMPDIR: options.tmp, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const child = spawn(cmd!, args, { env, stdio: ['ignore', out, out] });
  closeSync(out);
  const log = () => readFileSync(logFile, 'utf8');
  return {
    name: options.name,
    child,
    logFile,
    log,
    memory() {
      const pids = child.pid ? [child.pid, ...descendants(child.pid)] : [];
      const stats = pids.map(statusOf);
      return { rss: stats.reduce((s, p) => s + (p.VmRSS ?? 0), 0), peak: stats.reduce((s, p) => s + (p.VmHWM ?? 0), 0) };
    },
    // SIGTERM goes to n8n itself, as the kubelet's does; bwrap would die of it and take n8n down with SIGKILL.
    stop: (timeoutMs) => stopProcess(child, timeoutMs, child.pid ? descendants(child.pid).find((pid) => commandLine(pid).includes(options.bin)) : undefined),
  };
}

/** Waits until GET url answers 200, failing early (with the log's tail) if the process exits. */
export async function waitReady(process: N8nProcess, url: string, timeoutMs = 180_000): Promise<number> {
  const started = performance.now();
  await until(`${process.name} at ${url}`, timeoutMs, async () => {
    if (process.child.exitCode !== null) throw new Error(`${process.name} exited (${process.child.exitCode}) before it was ready:\n${process.log().split('\n').slice(-25).join('\n')}`);
    try {
      return (await fetch(url)).status === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return performance.now() - started;
}

/** Runs an n8n CLI command (import, publish) to completion with the same environment rules. */
export async function runN8n(options: ProcessOptions, timeoutMs = 180_000): Promise<{ code: number | null; log: string }> {
  const process = startN8n(options);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => process.child.kill('SIGKILL'), timeoutMs);
    process.child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, log: process.log() };
}

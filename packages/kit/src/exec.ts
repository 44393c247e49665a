import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface ExecResult {
  status: number | null;
  stdout: Buffer;
  stderr: Buffer;
  error: Error | undefined;
}

/** Runs a program without a shell (arguments are never re-parsed), feeding `input` on stdin. */
export function execFile(
  command: string,
  args: string[],
  options: { input?: string | Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): ExecResult {
  const result = spawnSync(command, args, {
    input: options.input,
    env: options.env ?? process.env,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: result.status,
    stdout: result.stdout ?? Buffer.alloc(0),
    stderr: result.stderr ?? Buffer.alloc(0),
    error: result.error ?? undefined,
  };
}

/** Whether a program can be found on PATH. */
export function hasCommand(command: string): boolean {
  const result = spawnSync('sh', ['-c', `command -v "$1" >/dev/null 2>&1`, 'sh', command]);
  return result.status === 0;
}

/**
 * The folder of PostgreSQL's programs (initdb, postgres, pg_restore, psql): Debian's newest major under
 * /usr/lib/postgresql (the package keeps them off PATH), else wherever PATH finds initdb. Undefined when
 * PostgreSQL is not installed.
 */
export function postgresPrograms(): string | undefined {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((d) => existsSync(join(base, d, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors.length) return join(base, majors[0]!, 'bin');
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return onPath ? onPath.replace(/\/initdb$/, '') : undefined;
}

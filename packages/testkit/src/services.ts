import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execFile, postgresPrograms } from '@groundwork/kit';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** PostgreSQL's server programs, or a clear failure when they are not installed. */
export function postgresBin(): string {
  const bin = postgresPrograms();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  return bin;
}

const isRoot = () => process.getuid?.() === 0;
/** PostgreSQL refuses to run as root: as root, run its programs as the postgres user the package creates. */
const asPostgres = (argv: string[]) => (isRoot() ? ['runuser', '-u', 'postgres', '--', ...argv] : argv);

export interface Postgres {
  port: number;
  socketDir: string;
  dataDir: string;
  bin: string;
  process: ChildProcess;
  /** Runs a program of the server's (pg_ctl, psql) as the server's user. */
  run(argv: string[], env?: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string };
}

/**
 * A fresh PostgreSQL on loopback started with `settings` (the rendered `-c` arguments). Local socket
 * connections are trusted, as in the official image; TCP needs a password (scram-sha-256), so n8n has to
 * log in with the password the init script gave its role.
 */
export async function startPostgres(dir: string, settings: string[]): Promise<Postgres> {
  const bin = postgresBin();
  const dataDir = join(dir, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  if (isRoot()) {
    chmodSync(dir, 0o755);
    const id = execFile('id', ['-u', 'postgres']);
    const uid = Number(id.stdout.toString().trim());
    chownSync(dataDir, uid, uid);
  }
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const [cmd, ...args] = asPostgres(argv);
    const result = execFile(cmd!, args, { env: { ...process.env, ...env }, timeoutMs: 120_000 });
    return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  };
  const init = run([join(bin, 'initdb'), '-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--data-checksums']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [cmd, ...args] = asPostgres([join(bin, 'postgres'), '-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', ...settings]);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  await until('PostgreSQL to accept connections', 60_000, () => {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${log}`);
    return run([join(bin, 'pg_isready'), '-h', '127.0.0.1', '-p', String(port)]).status === 0 ? true : undefined;
  });
  return { port, socketDir: dataDir, dataDir, bin, process: child, run };
}

export interface Queue {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts redis-server with `argv` (the rendered command, mapped to this host) and waits for it to answer. */
export async function startRedis(argv: string[], password: string): Promise<Queue> {
  const port = Number(argv[argv.indexOf('--port') + 1]);
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  await until('Redis to answer', 30_000, () => {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${log}`);
    const ping = execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { env: { ...process.env, REDISCLI_AUTH: password } });
    return ping.stdout.toString().trim() === 'PONG' ? true : undefined;
  });
  return {
    port,
    process: child,
    stop: () => stopProcess(child, 30_000).then(() => undefined),
  };
}

/**
 * SIGTERM (to `target`, a process inside `child`, when given), then how long `child` took to exit; SIGKILL
 * after `timeoutMs`.
 */
export function stopProcess(child: ChildProcess, timeoutMs: number, target?: number): Promise<{ ms: number; code: number | null; signal: string | null; killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ ms: 0, code: child.exitCode, signal: child.signalCode, killed: false });
  const started = performance.now();
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, code, signal, killed });
    });
    if (target) process.kill(target, 'SIGTERM');
    else child.kill('SIGTERM');
  });
}

#!/usr/bin/env -S npx node
/**
 * The real n8n for the end-to-end test, from npm, into a cache folder outside the workspace: it is about
 * 2,350 packages and 3 GB, far too much for `npm ci`. Installed once per version and reused afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError, createLogger, formatDuration, runCommand } from '@groundwork/kit';
import { N8N_VERSION } from '../versions.ts';

const log = createLogger('n8n-install');

/** GROUNDWORK_N8N_CACHE, else $XDG_CACHE_HOME/groundwork/n8n, else ~/.cache/groundwork/n8n. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.GROUNDWORK_N8N_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'groundwork', 'n8n');
}

export interface InstalledN8n {
  /** The n8n CLI script (run it with Node 24). */
  bin: string;
  version: string;
  /** How long the install took; 0 when a previous one was reused. */
  installMs: number;
}

function installedAt(dir: string, version: string): InstalledN8n | undefined {
  const manifest = join(dir, 'node_modules', 'n8n', 'package.json');
  if (!existsSync(join(dir, '.complete')) || !existsSync(manifest)) return undefined;
  const found = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  return found === version ? { bin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), version, installMs: 0 } : undefined;
}

/**
 * Install scripts stay off: n8n's optional Kafka driver would download a binary from GitHub and fail
 * offline. The native modules n8n needs with PostgreSQL ship prebuilt for Node 24.
 */
function npmInstall(dir: string, version: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', `n8n@${version}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new UserError(`npm install n8n@${version} failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

/** The cached install of n8n@version, installing it first (with progress) when there is none yet. */
export async function ensureN8n(version: string = N8N_VERSION, env: NodeJS.ProcessEnv = process.env): Promise<InstalledN8n> {
  const dir = join(cacheRoot(env), version);
  const ready = installedAt(dir, version);
  if (ready) return ready;
  // Installed next to its final place and renamed when complete: an interrupted install is never reused.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'package.json'), `${JSON.stringify({ name: 'groundwork-n8n-e2e', private: true, description: `n8n@${version} for groundwork's end-to-end test` }, null, 2)}\n`);
  const started = performance.now();
  const ticker = setInterval(() => log.info(`installing n8n@${version} from npm into ${dir}: ${formatDuration(performance.now() - started)} so far`), 15_000);
  log.info(`installing n8n@${version} from npm into ${dir} (about 3 GB; minutes on a cold npm cache)`);
  try {
    await npmInstall(partial, version);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  } finally {
    clearInterval(ticker);
  }
  writeFileSync(join(partial, '.complete'), `${new Date().toISOString()}\n`);
  mkdirSync(dirname(dir), { recursive: true });
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  const installMs = performance.now() - started;
  log.ok(`installed n8n@${version} in ${formatDuration(installMs)}`);
  return { ...installedAt(dir, version)!, installMs };
}

export function main(argv: string[]): Promise<number> {
  return runCommand(
    {
      usage: 'tsx packages/n8n/src/e2e/install.ts [--version=<n8n version>]',
      summary: 'Install the n8n release the rendered image runs from npm into the cache the end-to-end test uses (GROUNDWORK_N8N_CACHE or ~/.cache/groundwork/n8n), unless it is there already; prints the CLI path.',
      options: { version: { type: 'string', description: `n8n version (default: the image tag in versions.ts, ${N8N_VERSION}).` } },
    },
    async ({ options }) => {
      const installed = await ensureN8n((options.version as string | undefined) ?? N8N_VERSION);
      process.stdout.write(`${installed.bin}\n`);
      return 0;
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

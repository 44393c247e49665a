#!/usr/bin/env -S npx node
/**
 * The test suite proves interoperability with real tools (age, gpg, git, openssl, the Prometheus tools, PostgreSQL,
 * Redis) and runs the real Kubernetes programs (built from the Go modules under tools/go). This script checks the
 * system tools are installed and, where it can (root with apt-get, as on CI and fresh Debian machines), installs
 * the missing ones; elsewhere it fails with the command to run. Then it builds the Go programs that are not in
 * the cache yet (testkit's build-programs). It never skips a tool silently.
 */
import { UserError, createLogger, execFile, formatDuration, hasCommand, runCommand } from '@groundwork/kit';
import { GO_FAMILIES, ensureFamily, pinnedVersion } from '@groundwork/testkit/programs';

export interface Tool {
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  why: string;
}

export const REQUIRED_TOOLS: Tool[] = [
  { command: 'git', debianPackage: 'git', why: 'affected runs and the tracked-file scan' },
  { command: 'age', debianPackage: 'age', why: 'interop: our age stanzas opened by the real age CLI' },
  { command: 'gpg', debianPackage: 'gnupg', why: 'interop: our PGP stanzas opened by real GnuPG' },
  { command: 'openssl', debianPackage: 'openssl', why: 'interop: our Talos certificates checked by openssl verify and x509' },
  // promtool, Prometheus, amtool, Alertmanager, node_exporter and kube-state-metrics are the pinned builds
  // (tools/go), first on PATH for the tests and for npm test's verify runs (with-pinned-tools.ts).
  // The server binaries live in /usr/lib/postgresql/<major>/bin; pg_ctlcluster (same package set) is on PATH.
  { command: 'pg_ctlcluster', debianPackage: 'postgresql', why: 'n8n: the rendered PostgreSQL settings and init script, and the database n8n runs on in the end-to-end test' },
  { command: 'redis-server', debianPackage: 'redis-server', why: 'n8n: the rendered Valkey configuration and the queue of the end-to-end test' },
  { command: 'bwrap', debianPackage: 'bubblewrap', why: 'n8n and dr: rendered pods run on a read-only root filesystem, with their volumes at the rendered paths' },
  { command: 'etcd', debianPackage: 'etcd-server', why: 'dr: snapshots of a real etcd, and an etcd started from a restored one' },
  { command: 'etcdctl', debianPackage: 'etcd-client', why: 'dr: etcdctl snapshot status and restore on what the backups give back' },
];

const log = createLogger('ensure-tools');

export function missingTools(tools: Tool[] = REQUIRED_TOOLS, available: (command: string) => boolean = hasCommand): Tool[] {
  return tools.filter((tool) => !available(tool.command));
}

function canInstall(): boolean {
  return process.getuid?.() === 0 && hasCommand('apt-get');
}

export function main(argv: string[]): Promise<number> {
  return runCommand(
    {
      usage: 'tsx tools/scripts/src/ensure-tools.ts [--check]',
      summary: 'Make sure the system tools the test suite runs against are installed, and the pinned Go programs built.',
      options: { check: { type: 'boolean', description: 'Only report; never install or build.' } },
    },
    async ({ options }) => {
      installSystemTools(Boolean(options.check));
      if (options.check) return 0;
      for (const family of GO_FAMILIES) {
        const outcome = await log.progress(`${family.family} ${pinnedVersion(family)} (${Object.keys(family.programs).join(', ')})`, () => ensureFamily(family, log));
        log.ok(`${family.family}: ${outcome.buildMs ? `built in ${formatDuration(outcome.buildMs)}` : 'already built'} (${outcome.dir})`);
      }
      return 0;
    },
    argv,
  );
}

function installSystemTools(checkOnly: boolean): void {
  const missing = missingTools();
  if (missing.length === 0) {
    log.ok(`tools present: ${REQUIRED_TOOLS.map((t) => t.command).join(', ')}`);
    return;
  }
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  const list = missing.map((t) => `${t.command} (${t.why})`).join('; ');
  if (checkOnly || !canInstall()) {
    throw new UserError(`missing tools: ${list}`, { hint: `install them: sudo apt-get install -y ${packages.join(' ')}` });
  }
  log.info(`installing ${packages.join(' ')} with apt-get (missing: ${list})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = execFile('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
  if (update.status !== 0) throw new UserError(`apt-get update failed: ${update.stderr.toString().trim()}`);
  const install = execFile('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, timeoutMs: 600_000 });
  if (install.status !== 0) throw new UserError(`apt-get install failed: ${install.stderr.toString().trim()}`);
  const still = missingTools();
  if (still.length) throw new UserError(`still missing after install: ${still.map((t) => t.command).join(', ')}`);
  log.ok(`installed ${packages.join(' ')}`);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

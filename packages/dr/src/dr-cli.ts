#!/usr/bin/env -S npx node
/**
 * gw-dr: a cluster's backups from the workstation. List and fetch them, take an etcd snapshot now, restore
 * the n8n database or its workflows, run a restore drill, and print the recovery runbook.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError, createLogger, findWorkspaceRoot, kubeconfigPath, runCommand, type ParsedOptions } from '@groundwork/kit';
import { S3Error } from './runner/s3.ts';
import { backupPlan, loadCluster, type LoadedCluster } from '@groundwork/cluster';
import { connect, guardIdentity, parseDuration } from '@groundwork/kube';
import { fetchBackup, listBackups } from './runner/fetch.ts';
import { KINDS, isKind, type Kind } from './runner/naming.ts';
import { targetsOf } from './runner/settings.ts';
import { formatDrill } from './runner/drill.ts';
import { clusterIdentities, workstation } from './workstation/context.ts';
import { liveDrill, localDrill, type DrillOutcome } from './workstation/drill.ts';
import { takeEtcdSnapshot } from './workstation/etcd-snapshot.ts';
import { recoveryRunbook } from './workstation/recovery.ts';
import { restoreN8nLive, restorePostgresInto, restorePostgresLive } from './workstation/restore.ts';

const log = createLogger('gw-dr');

const spec = {
  usage: 'gw-dr <command> [args] --cluster=NAME',
  summary: 'A cluster\'s backups from the workstation: list, fetch, snapshot, restore, drill, recovery runbook.',
  details: [
    'Commands:',
    '  list [--kind=K]                         the stored backups, newest first (kinds: etcd, postgres, n8n)',
    '  fetch KIND --out=PATH [--at=T]          download, decrypt and check one (the newest, or the newest at or before T)',
    '  etcd-snapshot --out=DIR [--node=NAME]   take an etcd snapshot now through the Talos API, encrypted into DIR',
    '  restore postgres [--at=T]               stop n8n, restore its database in one transaction, start n8n',
    '  restore postgres --database-url=URL     restore into another PostgreSQL this machine reaches instead',
    '  restore n8n [--at=T]                    import workflows and credentials with n8n\'s own import',
    '  drill [--at=T] [--local]                restore the newest database backup into a scratch PostgreSQL and check it',
    '  recovery                                this cluster\'s recovery runbook (etcd, n8n, whole cluster)',
    '',
    'T is latest (the default), a backup\'s file name, or a UTC time such as 2026-11-29T01:30:00Z or 2026-11-29.',
    'Backups are read with the cluster\'s age identity (clusters/NAME/age.key or SOPS_AGE_KEY_FILE) and the',
    'bucket key from SOPS; a volume target is read where it is mounted (--volume-dir). In-cluster commands use',
    'clusters/NAME/rendered/kubeconfig (or GROUNDWORK_KUBECONFIG); the drill runs locally without one, or with --local.',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'The cluster.' },
    kind: { type: 'string', valueName: 'KIND', description: 'list: only this kind.' },
    out: { type: 'string', valueName: 'PATH', description: 'fetch: where the backup goes (a folder for n8n); etcd-snapshot: the folder.' },
    at: { type: 'string', valueName: 'T', description: 'Which backup: latest, a file name, or a time.' },
    from: { type: 'string', valueName: 'TARGET', description: 'fetch: s3 or volume (default: the first that has one).' },
    node: { type: 'string', valueName: 'NAME', description: 'etcd-snapshot: the control plane to ask (default: the first).' },
    'database-url': { type: 'string', valueName: 'URL', description: 'restore postgres: postgresql://user:password@host:port/database to restore into.' },
    'volume-dir': { type: 'string', valueName: 'PATH', description: 'Where the volume target is mounted on this machine. Env: GROUNDWORK_DR_VOLUME.' },
    local: { type: 'boolean', description: 'drill: on this machine, with its PostgreSQL, even when a kubeconfig exists.' },
    timeout: { type: 'string', valueName: 'DURATION', description: 'How long to wait for in-cluster Jobs and rollouts (default 30m).' },
  },
  positionals: { name: 'COMMAND [ARG]', description: 'list, fetch, etcd-snapshot, restore, drill or recovery', min: 1, max: 2 },
} as const;

function kindOf(value: string | undefined, what: string): Kind {
  if (!value || !isKind(value)) throw new UserError(`${what}: expected one of ${KINDS.join(', ')}, db-<app> or vol-<app>-<volume>, got ${value ?? 'nothing'}`, { exitCode: 2 });
  return value;
}

function printDrill(outcome: DrillOutcome): number {
  if (outcome.report) {
    process.stdout.write(formatDrill(outcome.report));
    return outcome.report.ok ? 0 : 1;
  }
  process.stdout.write(`drill (${outcome.where}): FAILED: ${outcome.failure}\n`);
  return 1;
}

/** The live cluster, after checking that the API server is this cluster's. */
async function liveApi(root: string, cluster: LoadedCluster) {
  const api = connect(root, cluster.name, 'groundwork-dr');
  await guardIdentity(api, cluster.name, { record: false });
  return api;
}

export function main(argv: string[]): Promise<number> {
  return runCommand(
    spec,
    // A store that does not answer, or answers with an error, is the user's to fix, not a crash.
    async (parsed) => run(parsed).catch((error: unknown) => {
      if (error instanceof S3Error) throw new UserError(error.message, { hint: error.status ? 'check the bucket, the access key (gw-secrets status) and features.dr.s3' : 'check features.dr.s3.endpoint, that it resolves and is reachable from this machine, and its certificate (features.dr.s3.caFile for a private CA)' });
      throw error;
    }),
    argv,
  );
}

async function run({ options, positionals }: { options: ParsedOptions<typeof spec.options>; positionals: string[] }): Promise<number> {
  const root = findWorkspaceRoot();
  if (!options.cluster || options.cluster === '*') throw new UserError('name the cluster with --cluster=<name>', { exitCode: 2 });
  const cluster = loadCluster(root, options.cluster);
  const [command, arg] = positionals;
  const at = options.at ?? 'latest';
  const volumeDir = options['volume-dir'];
  const waits = { log, at, timeoutMs: parseDuration(options.timeout ?? '30m', '--timeout'), pollMs: Number(process.env.GROUNDWORK_POLL_MS ?? 2000) };
  switch (command) {
    case 'recovery':
      process.stdout.write(recoveryRunbook(cluster));
      return 0;
    case 'list': {
      const ws = await workstation(root, cluster, { ...(volumeDir ? { volumeDir } : {}) });
      try {
        const kinds: Kind[] = options.kind ? [kindOf(options.kind, '--kind')] : [...KINDS, ...backupPlan(cluster.config).flatMap((p) => (p.app ? [p.kind as Kind] : []))];
        for (const target of targetsOf(ws.settings)) {
          for (const kind of kinds) {
            for (const backup of await listBackups(ws.settings, target, kind)) process.stdout.write(`${new Date(backup.takenAt).toISOString()}  ${kind.padEnd(8)} ${String(backup.size).padStart(12)}  ${target.label}  ${backup.file}\n`);
          }
        }
      } finally {
        ws.close();
      }
      return 0;
    }
    case 'fetch': {
      const kind = kindOf(arg, 'fetch');
      if (!options.out) throw new UserError('fetch: give where the backup goes with --out=PATH', { exitCode: 2 });
      const ws = await workstation(root, cluster, { ...(volumeDir ? { volumeDir } : {}) });
      try {
        const from = options.from === 's3' || options.from === 'volume' ? options.from : undefined;
        const fetched = await fetchBackup(ws.settings, kind, resolve(options.out), { at, identities: await clusterIdentities(cluster), ...(from ? { from } : {}) });
        log.ok(`${fetched.file} from ${fetched.target} → ${options.out} (${fetched.check}); its description is in ${options.out}.json`);
      } finally {
        ws.close();
      }
      return 0;
    }
    case 'etcd-snapshot': {
      if (!options.out) throw new UserError('etcd-snapshot: give the folder with --out=DIR', { exitCode: 2 });
      const taken = await log.progress(`etcd snapshot of ${cluster.name}`, () => takeEtcdSnapshot(root, cluster, resolve(options.out!), { log, ...(options.node ? { node: options.node } : {}) }));
      log.ok(`${taken.file} (${taken.bytes} bytes encrypted, from ${taken.node})`);
      return 0;
    }
    case 'restore': {
      const kind = kindOf(arg, 'restore');
      if (kind === 'etcd') throw new UserError('etcd is restored by bootstrapping Talos from a snapshot: see gw-dr recovery --cluster=' + cluster.name, { exitCode: 2 });
      if (kind.startsWith('db-')) {
        throw new UserError(`restore ${kind}: an app's database is restored by hand: gw-dr fetch ${kind} --out=${kind}.dump, then pg_restore --clean --if-exists --no-owner into it (docs/apps.md)`, { exitCode: 2 });
      }
      if (kind.startsWith('vol-')) {
        throw new UserError(`restore ${kind}: an app's volume is restored by hand: gw-dr fetch ${kind} --out=${kind}.tgz, then tar --extract into the claim with the app stopped (docs/apps.md)`, { exitCode: 2 });
      }
      if (options['database-url']) {
        if (kind !== 'postgres') throw new UserError('--database-url is for restore postgres', { exitCode: 2 });
        const file = await restorePostgresInto(root, cluster, options['database-url'], { at, log, ...(volumeDir ? { volumeDir } : {}) });
        log.ok(`restored ${file}`);
        return 0;
      }
      const api = await liveApi(root, cluster);
      await (kind === 'postgres' ? restorePostgresLive(cluster, api, waits) : restoreN8nLive(cluster, api, waits));
      log.ok(`${kind} restored from the ${at} backup`);
      return 0;
    }
    case 'drill': {
      const live = !options.local && (!!process.env.GROUNDWORK_KUBECONFIG || existsSync(kubeconfigPath(root, cluster.name)));
      const outcome = live ? await liveDrill(root, cluster, await liveApi(root, cluster), waits) : await localDrill(root, cluster, { at, log, ...(volumeDir ? { volumeDir } : {}) });
      return printDrill(outcome);
    }
    default:
      throw new UserError(`unknown command "${command}"`, { exitCode: 2, hint: 'run gw-dr --help' });
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

import { join } from 'node:path';
import { UserError, type Logger } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { waitForRollouts, type KubeApi, type KubeObject } from '@groundwork/kube';
import { N8N_NAMESPACE } from '@groundwork/n8n';
import { fetchBackup } from '../runner/fetch.ts';
import { DUMP_FILE, postgresRestore } from '../scripts/postgres.ts';
import { identitySecret, n8nRestoreJob, postgresRestoreJob, type OnDemand } from '../components/jobs.ts';
import { namespaceOf } from '../names.ts';
import { clusterIdentities, workstation } from './context.ts';
import { createAll, removeAll, waitForJob, type JobEnd } from './jobs.ts';
import { runScript } from './local.ts';
import { runStamp } from './drill.ts';

/**
 * Restores, as commands. In the cluster they run as Jobs next to the backups, with the cluster's identity
 * in a Secret for the length of the run. A database restore stops n8n first (every process, so nothing
 * writes while the tables are replaced) and starts it again afterwards, also when the restore failed: the
 * restore runs in one transaction, so a failure leaves the database as it was.
 */

export interface WaitSettings {
  log: Logger;
  timeoutMs: number;
  pollMs: number;
  at: string;
  env?: NodeJS.ProcessEnv;
  now?: number;
}

const failureOf = (end: JobEnd) => {
  const broken = end.containers.find((c) => c.exitCode !== 0);
  return broken ? `step ${broken.name} failed (exit ${broken.exitCode ?? '?'}): ${broken.message.trim().split('\n').slice(-5).join(' | ')}` : 'the Job failed before its containers ran';
};

async function runRestoreJob(cluster: LoadedCluster, api: KubeApi, kind: 'postgres' | 'n8n', options: WaitSettings): Promise<JobEnd> {
  const run: OnDemand = { namespace: namespaceOf(cluster), name: `${kind}-restore-${runStamp(options.now ?? Date.now())}`, at: options.at };
  const secret = identitySecret(run, `${(await clusterIdentities(cluster, options.env)).join('\n')}\n`);
  const job = kind === 'postgres' ? postgresRestoreJob(cluster, run) : n8nRestoreJob(cluster, run);
  try {
    await createAll(api, [secret, job]);
    return await waitForJob(api, job, options);
  } finally {
    // The Job stays a day for its logs; the identity goes now.
    await removeAll(api, [secret], options.log);
  }
}

/** n8n's Deployments, as they are now (their replicas are what the restore puts back). */
async function n8nDeployments(api: KubeApi): Promise<KubeObject[]> {
  return (await api.list('apps/v1', 'Deployment', { namespace: N8N_NAMESPACE, labelSelector: 'app.kubernetes.io/name=n8n' })).filter((d) => ((d.spec as { replicas?: number })?.replicas ?? 1) > 0);
}

export async function restorePostgresLive(cluster: LoadedCluster, api: KubeApi, options: WaitSettings): Promise<void> {
  const deployments = await n8nDeployments(api);
  if (deployments.length === 0) throw new UserError(`no running n8n Deployment in namespace ${N8N_NAMESPACE}: apply the n8n layer first (it creates the database the backup goes into)`);
  const replicas = new Map(deployments.map((d) => [d.metadata.name, (d.spec as { replicas?: number }).replicas ?? 1]));
  options.log.info(`stopping n8n (${[...replicas].map(([name, n]) => `${name} ×${n}`).join(', ')}) so nothing writes while the database is replaced`);
  for (const deployment of deployments) await api.scale(deployment, 0);
  let end: JobEnd | undefined;
  try {
    end = await runRestoreJob(cluster, api, 'postgres', options);
  } finally {
    options.log.info('starting n8n again');
    for (const deployment of deployments) await api.scale(deployment, replicas.get(deployment.metadata.name)!);
    await waitForRollouts(api, deployments, { log: options.log, timeoutMs: options.timeoutMs, pollMs: options.pollMs });
  }
  if (!end.succeeded) throw new UserError(`the database restore failed and changed nothing: ${failureOf(end)}`);
}

export async function restoreN8nLive(cluster: LoadedCluster, api: KubeApi, options: WaitSettings): Promise<void> {
  const end = await runRestoreJob(cluster, api, 'n8n', options);
  if (!end.succeeded) throw new UserError(`the workflow and credential import failed: ${failureOf(end)}`);
}

/**
 * A restore into any PostgreSQL this machine reaches (a fresh one, a port-forward): fetch and decrypt here,
 * then the rendered restore script with libpq's variables taken from the URL.
 */
export async function restorePostgresInto(root: string, cluster: LoadedCluster, databaseUrl: string, options: { at: string; log: Logger; volumeDir?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  const url = new URL(databaseUrl);
  if (!/^postgres(ql)?:$/.test(url.protocol) || !url.pathname.slice(1)) throw new UserError(`--database-url: "${url.protocol}//${url.host}${url.pathname}" is not postgresql://user@host:port/database`, { exitCode: 2 });
  const ws = await workstation(root, cluster, options);
  try {
    const fetched = await fetchBackup(ws.settings, 'postgres', join(ws.work, DUMP_FILE), { at: options.at, identities: await clusterIdentities(cluster, options.env) });
    options.log.info(`fetched ${fetched.file} from ${fetched.target}; restoring into ${url.host}${url.pathname}`);
    const env = {
      PGHOST: decodeURIComponent(url.hostname),
      PGPORT: url.port || '5432',
      PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
      PGUSER: decodeURIComponent(url.username || 'postgres'),
      ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
    };
    await runScript('postgres-restore.sh', postgresRestore, ws.work, env, (line) => options.log.info(line));
    return fetched.file;
  } finally {
    ws.close();
  }
}

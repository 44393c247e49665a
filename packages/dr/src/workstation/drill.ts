import { join } from 'node:path';
import type { Logger } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import type { KubeApi, KubeObject } from '@groundwork/kube';
import { N8N_TABLES, judgeDrill, type DrillReport } from '../runner/drill.ts';
import { fetchBackup } from '../runner/fetch.ts';
import { postgresDrill, DUMP_FILE } from '../scripts/postgres.ts';
import { drillAllowedAge, drillJob, drillNamespace, drillNamespaceObjects, identitySecret, type OnDemand } from '../components/jobs.ts';
import { SECRETS, namespaceOf } from '../names.ts';
import { clusterIdentities, drSecretValues, workstation } from './context.ts';
import { createAll, removeAll, waitForJob } from './jobs.ts';
import { runScript } from './local.ts';

/** A drill's verdict, and what to tell when the Job failed before its report. */
export interface DrillOutcome {
  report?: DrillReport;
  /** Why there is no report: the step that failed and its message. */
  failure?: string;
  where: string;
}

/** A name for this run, sortable and valid in Kubernetes names: 20261130t041002. */
export const runStamp = (now: number) => new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase();

/**
 * The drill as a Job, in a scratch namespace created for it (or next to a volume-only cluster's backups),
 * with the cluster's identity in a Secret that lives as long as the run. Everything is deleted afterwards,
 * whatever the outcome.
 */
export async function liveDrill(root: string, cluster: LoadedCluster, api: KubeApi, options: { at: string; log: Logger; timeoutMs: number; pollMs: number; now?: number; env?: NodeJS.ProcessEnv }): Promise<DrillOutcome> {
  const stamp = runStamp(options.now ?? Date.now());
  const namespace = drillNamespace(cluster, stamp);
  const scratch = namespace !== namespaceOf(cluster);
  const run: OnDemand = { namespace, name: scratch ? 'drill' : `drill-${stamp}`, at: options.at };
  const identity = (await clusterIdentities(cluster, options.env)).join('\n');
  const secrets: KubeObject[] = [identitySecret(run, `${identity}\n`)];
  if (scratch && cluster.config.features.dr.s3) {
    const keys = await drSecretValues(root, cluster, SECRETS.s3.name);
    secrets.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRETS.s3.name, namespace }, type: 'Opaque', stringData: keys });
  }
  // The namespace and what the Job mounts first, the Job last.
  const setup = scratch ? drillNamespaceObjects(cluster, run).filter((o) => o.kind !== 'Job') : [];
  const job = drillJob(cluster, run);
  const ordered = [...setup, ...secrets, job];
  options.log.info(`drill ${namespace}/${run.name}: restoring the ${options.at} n8n database backup into a scratch PostgreSQL`);
  try {
    await createAll(api, ordered);
    const end = await waitForJob(api, job, options);
    const report = end.containers.find((c) => c.name === 'report' && c.message.startsWith('{'));
    if (report) return { report: JSON.parse(report.message) as DrillReport, where: `${namespace}/${run.name}` };
    const broken = end.containers.find((c) => c.exitCode !== 0);
    return { failure: broken ? `step ${broken.name} failed (exit ${broken.exitCode ?? '?'}): ${broken.message.trim().split('\n').slice(-5).join(' | ')}` : 'the Job ended without a report', where: `${namespace}/${run.name}` };
  } finally {
    // A scratch namespace takes everything in it along; next to the backups only the run's own objects go.
    await removeAll(api, scratch ? ordered.filter((o) => o.kind === 'Namespace') : [job, ...secrets], options.log);
  }
}

/** The drill on this machine: fetch and decrypt here, restore with the local PostgreSQL, same script, same verdict. */
export async function localDrill(root: string, cluster: LoadedCluster, options: { at: string; log: Logger; volumeDir?: string; env?: NodeJS.ProcessEnv; now?: number }): Promise<DrillOutcome> {
  const ws = await workstation(root, cluster, options);
  try {
    const dump = join(ws.work, DUMP_FILE);
    const fetched = await fetchBackup(ws.settings, 'postgres', dump, { at: options.at, identities: await clusterIdentities(cluster, options.env) });
    options.log.info(`fetched ${fetched.file} from ${fetched.target} (${fetched.check}); restoring it into a scratch PostgreSQL`);
    await runScript('postgres-drill.sh', postgresDrill, ws.work, {}, (line) => options.log.info(line));
    const report = judgeDrill(ws.work, dump, { allowedAgeSeconds: drillAllowedAge(cluster), requiredTables: N8N_TABLES, ...(options.now ? { now: options.now } : {}) });
    return { report, where: 'this machine' };
  } catch (error) {
    // A backup that cannot be fetched, opened or restored is the drill's finding, not a crash.
    return { failure: (error as Error).message, where: 'this machine' };
  } finally {
    ws.close();
  }
}

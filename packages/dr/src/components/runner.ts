import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { configHash, meta } from '@groundwork/kube';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { runnerBundle } from '../bundle.ts';
import { RUNNER_CONFIG, namespaceOf } from '../names.ts';
import { n8nExport, n8nImport } from '../scripts/n8n.ts';
import { postgresDrill, postgresDump, postgresRestore } from '../scripts/postgres.ts';

/** What the runner ConfigMap holds, by file name under /opt/dr. */
export function runnerFiles(cluster: LoadedCluster): Record<string, string> {
  return {
    'runner.mjs': runnerBundle(),
    'postgres-dump.sh': postgresDump,
    'postgres-drill.sh': postgresDrill,
    'postgres-restore.sh': postgresRestore,
    'n8n-export.sh': n8nExport,
    'n8n-import.sh': n8nImport,
    // The cluster's age recipients (public keys): the jobs can encrypt, never decrypt.
    'recipients.txt': `${cluster.config.sops.age.join('\n')}\n`,
    // The store's private CA (public certificates), when the cluster file names one.
    ...(cluster.config.features.dr.s3?.caFile ? { 's3-ca.pem': s3CaPem(cluster) } : {}),
  };
}

/** The CA file the cluster file names (features.dr.s3.caFile), read from the cluster folder. */
export function s3CaPem(cluster: LoadedCluster): string {
  const file = cluster.config.features.dr.s3!.caFile!;
  const path = join(cluster.dir, file);
  if (!existsSync(path)) throw new UserError(`${cluster.file}: features.dr.s3.caFile: ${file} does not exist in ${cluster.dir}`);
  const text = readFileSync(path, 'utf8');
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new UserError(`${cluster.file}: features.dr.s3.caFile: ${file} holds no PEM certificate`);
  return text;
}

/** The program and scripts every dr Job runs, in one ConfigMap (a change rolls into the next run). */
export function runnerConfig(cluster: LoadedCluster, namespace: string = namespaceOf(cluster)): IConfigMap {
  const data = runnerFiles(cluster);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...meta({ name: RUNNER_CONFIG, namespace, component: 'runner', partOf: 'dr' }), annotations: { 'groundwork.dev/config-hash': configHash(data) } },
    data,
  };
}

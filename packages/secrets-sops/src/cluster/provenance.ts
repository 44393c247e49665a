import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listClusters } from '@groundwork/kit';
import { clusterKeyFile, isExampleKeyText, type LoadedCluster } from '@groundwork/cluster';
import { createKeyServices, type KeyServices } from '../sops/index.ts';
import { clusterSecretFiles, readSecretValues } from './manifests.ts';

/**
 * A value that was ever readable with an example key is public: anyone with this repository has it. The
 * example clusters' secrets are opened with their committed example keys and compared, as SHA-256 digests, with
 * a cluster's own values. Short values (user names, ports) are not secrets and are left out.
 */

const MIN_SECRET_LENGTH = 12;
const digest = (value: string) => createHash('sha256').update(value).digest('hex');

/** The cluster's own age.key is an example key: it is an example, or a copy that was never rekeyed. */
export function keyedWithExample(cluster: LoadedCluster): boolean {
  const file = clusterKeyFile(cluster.dir);
  return existsSync(file) && isExampleKeyText(readFileSync(file, 'utf8'));
}

/** Digest of every example cluster's secret value, to where it comes from (path and key, never the value). */
export async function exampleValueDigests(root: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const name of listClusters(root)) {
    const keyFile = join(root, 'clusters', name, 'age.key');
    if (!existsSync(keyFile) || !isExampleKeyText(readFileSync(keyFile, 'utf8'))) continue;
    const services = await createKeyServices({ env: { SOPS_AGE_KEY: readFileSync(keyFile, 'utf8'), HOME: '/nonexistent' }, useGpg: false });
    for (const path of clusterSecretFiles(root, name).filter((p) => p.includes('/secrets/'))) {
      const values = await readSecretValues(root, path, services).catch(() => ({}) as Record<string, string>);
      for (const [key, value] of Object.entries(values)) if (value.length >= MIN_SECRET_LENGTH) digests.set(digest(value), `${path}: ${key}`);
    }
  }
  return digests;
}

/** The cluster's secret values that equal an example cluster's, as "path: key (the value of example path: key)". */
export async function exampleValuesIn(root: string, cluster: LoadedCluster, services: KeyServices, examples?: Map<string, string>): Promise<string[]> {
  if (keyedWithExample(cluster)) return [];
  const known = examples ?? (await exampleValueDigests(root));
  const found: string[] = [];
  for (const path of clusterSecretFiles(root, cluster.name).filter((p) => p.includes('/secrets/'))) {
    // A file that does not open (tampered, foreign key) is reported by verify's own checks.
    const values = await readSecretValues(root, path, services).catch(() => ({}) as Record<string, string>);
    for (const [key, value] of Object.entries(values)) {
      const origin = value.length >= MIN_SECRET_LENGTH ? known.get(digest(value)) : undefined;
      if (origin) found.push(`${path}: ${key} holds the value of ${origin}, public in this repository`);
    }
  }
  return found;
}

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { clusterKeyFile, isExampleKeyText, type LoadedCluster } from '@groundwork/cluster';
import { createKeyServices, type KeyServices } from '../sops/index.ts';
import { clusterSecretFiles, readSecretValues } from './manifests.ts';
import { exampleKeys } from './identity.ts';

/**
 * A value that was ever readable with an example key is public: anyone with this repository has it. The
 * example clusters' secrets are opened with their committed example keys and compared, as SHA-256 digests, with
 * a cluster's own values. Short values (user names, ports) are not secrets and are left out.
 */

const MIN_SECRET_LENGTH = 12;
const digest = (value: string) => createHash('sha256').update(value).digest('hex');

const manifestsOf = (root: string, cluster: string) => clusterSecretFiles(root, cluster).filter((p) => p.includes('/secrets/'));
/** A file that does not open (tampered, foreign key) has no values here; verify's own checks report it. */
const readValues = (root: string, path: string, services: KeyServices) => readSecretValues(root, path, services).catch(() => ({}) as Record<string, string>);

/** The cluster's own age.key is an example key: it is an example, or a copy that was never rekeyed. */
export function keyedWithExample(cluster: LoadedCluster): boolean {
  const file = clusterKeyFile(cluster.dir);
  return existsSync(file) && isExampleKeyText(readFileSync(file, 'utf8'));
}

/** Digest of every example cluster's secret value, to where it comes from (path and key, never the value). */
export async function exampleValueDigests(root: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const { cluster, text } of exampleKeys(root)) {
    const services = await createKeyServices({ env: { SOPS_AGE_KEY: text, HOME: '/nonexistent' }, useGpg: false });
    for (const path of manifestsOf(root, cluster)) {
      const values = await readValues(root, path, services);
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
  for (const path of manifestsOf(root, cluster.name)) {
    const values = await readValues(root, path, services);
    for (const [key, value] of Object.entries(values)) {
      const origin = value.length >= MIN_SECRET_LENGTH ? known.get(digest(value)) : undefined;
      if (origin) found.push(`${path}: ${key} holds the value of ${origin}, public in this repository`);
    }
  }
  return found;
}

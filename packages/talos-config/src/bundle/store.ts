import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedCluster } from '@groundwork/cluster';
import { readEncryptedFile, writeEncryptedFile } from '@groundwork/secrets-sops';
import type { sops } from '@groundwork/secrets-sops';
import { bundleFromYaml, bundleToYaml, pairFromYaml, pairToYaml, type PemPair, type SecretsBundle } from './bundle.ts';

/**
 * Where a cluster's Talos secrets live, SOPS-encrypted (the whole file):
 *  - talos/secrets.sops.yaml       the bundle, exactly as talosctl gen secrets writes it;
 *  - talos/admin-client.sops.yaml  the talosconfig admin certificate and key (kept apart from the bundle so
 *                                  the bundle stays readable by talosctl, and so rotation touches one file).
 */
export const bundlePath = (cluster: string) => `clusters/${cluster}/talos/secrets.sops.yaml`;
export const clientPath = (cluster: string) => `clusters/${cluster}/talos/admin-client.sops.yaml`;

type KeyServices = sops.KeyServices;

export function hasBundle(root: string, cluster: LoadedCluster): boolean {
  return existsSync(join(root, bundlePath(cluster.name)));
}

export async function readBundle(root: string, cluster: LoadedCluster, services: KeyServices): Promise<SecretsBundle> {
  const { plaintext } = await readEncryptedFile(root, bundlePath(cluster.name), services);
  return bundleFromYaml(new TextDecoder().decode(plaintext));
}

export async function writeBundle(root: string, cluster: LoadedCluster, bundle: SecretsBundle, services: KeyServices): Promise<void> {
  await writeEncryptedFile(root, bundlePath(cluster.name), new TextEncoder().encode(bundleToYaml(bundle)), services);
}

export async function readClient(root: string, cluster: LoadedCluster, services: KeyServices): Promise<PemPair> {
  const { plaintext } = await readEncryptedFile(root, clientPath(cluster.name), services);
  return pairFromYaml(new TextDecoder().decode(plaintext), clientPath(cluster.name));
}

export async function writeClient(root: string, cluster: LoadedCluster, client: PemPair, services: KeyServices): Promise<void> {
  await writeEncryptedFile(root, clientPath(cluster.name), new TextEncoder().encode(pairToYaml(client)), services);
}

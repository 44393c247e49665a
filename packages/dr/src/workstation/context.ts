import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { clusterKeyServices, decryptManifest, manifestPath, sops } from '@groundwork/secrets-sops';
import { parseRetention } from '../runner/retention.ts';
import type { Settings } from '../runner/settings.ts';
import { s3CaPem } from '../components/runner.ts';
import { SECRETS, namespaceOf } from '../names.ts';
import { retentionText } from '../config/env.ts';

/**
 * The runner's settings on a workstation: the same program the Jobs run, told the same things, with the
 * bucket's key decrypted from SOPS in memory and the cluster's age identities from the usual places
 * (clusters/<name>/age.key, SOPS_AGE_KEY_FILE, …). A volume target is reachable only where it is mounted:
 * `--volume-dir` (or GROUNDWORK_DR_VOLUME) names that folder.
 */

export interface Workstation {
  settings: Settings;
  /** Scratch folder for downloads and recipients; removed by `close`. */
  work: string;
  close(): void;
}

function requireDr(cluster: LoadedCluster): void {
  if (!cluster.config.features.dr.enabled) throw new UserError(`${cluster.name}: features.dr is off in clusters/${cluster.name}/cluster.yaml`, { exitCode: 2 });
}

/** The values of one of the layer's Secrets, decrypted in memory. */
export async function drSecretValues(root: string, cluster: LoadedCluster, name: string): Promise<Record<string, string>> {
  const path = manifestPath(cluster.name, namespaceOf(cluster), name);
  if (!existsSync(join(root, path))) throw new UserError(`${path} is missing`, { hint: `gw-secrets status --cluster=${cluster.name}` });
  const object = await decryptManifest(new Uint8Array(readFileSync(join(root, path))), cluster, path);
  const data = (object.data ?? {}) as Record<string, string>;
  const stringData = (object.stringData ?? {}) as Record<string, string>;
  return { ...Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])), ...stringData };
}

export async function workstation(root: string, cluster: LoadedCluster, options: { volumeDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Workstation> {
  requireDr(cluster);
  const env = options.env ?? process.env;
  const { s3 } = cluster.config.features.dr;
  const volume = options.volumeDir ?? env.GROUNDWORK_DR_VOLUME;
  const work = mkdtempSync(join(tmpdir(), 'gw-dr-'));
  const recipientsFile = join(work, 'recipients.txt');
  writeFileSync(recipientsFile, `${cluster.config.sops.age.join('\n')}\n`);
  const settings: Settings = { cluster: cluster.name, work, retention: parseRetention(retentionText(cluster)), recipientsFile, ...(volume ? { volume } : {}) };
  if (s3) {
    const keys = await drSecretValues(root, cluster, SECRETS.s3.name);
    settings.s3 = { ...s3, accessKeyId: keys[SECRETS.s3.accessKeyId] ?? '', secretAccessKey: keys[SECRETS.s3.secretAccessKey] ?? '', ...(s3.caFile ? { ca: s3CaPem(cluster) } : {}) };
  }
  if (!settings.s3 && !settings.volume) {
    rmSync(work, { recursive: true, force: true });
    throw new UserError(`${cluster.name} keeps its backups on a volume only: give the folder where it is mounted with --volume-dir=PATH`, { exitCode: 2 });
  }
  return { settings, work, close: () => rmSync(work, { recursive: true, force: true }) };
}

/**
 * The age identities that open this cluster's backups, and only those: an identity is taken when its
 * recipient is one of the cluster's, so no unrelated key of the user ever leaves the machine.
 */
export async function clusterIdentities(cluster: LoadedCluster, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const services = await clusterKeyServices(cluster, env);
  const wanted = new Set(cluster.config.sops.age);
  const found: string[] = [];
  for (const recipient of wanted) {
    for (const identity of services.age.forRecipient(recipient)) {
      if (!found.includes(identity) && wanted.has(await sops.ageRecipientOf(identity))) found.push(identity);
    }
  }
  if (found.length === 0) {
    throw new UserError(`no age identity of ${cluster.name} at hand: its backups are encrypted to the recipients in cluster.yaml`, { hint: `put the cluster key in clusters/${cluster.name}/age.key or point SOPS_AGE_KEY_FILE at it` });
  }
  return found;
}

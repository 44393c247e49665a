import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, listClusters } from '@groundwork/kit';
import { clusterKeyFile, isExampleKeyText, type LoadedCluster } from '@groundwork/cluster';
import { ageRecipientOf, createKeyServices, parseAgeKeyText, type KeyServices } from '../sops/index.ts';

/**
 * Identities for work on one cluster: the usual sops sources (SOPS_AGE_KEY*, keys.txt, GnuPG) plus the
 * cluster's own clusters/<name>/age.key when it exists.
 */
export async function clusterKeyServices(cluster: LoadedCluster, env: NodeJS.ProcessEnv = process.env): Promise<KeyServices> {
  return createKeyServices({ env, extraFiles: [clusterKeyFile(cluster.dir)] });
}

/** Human-readable sources of identities for messages (never the keys). */
export function identityOrigins(services: KeyServices, root: string, cluster: LoadedCluster): string[] {
  return services.age.origins().map((origin) => {
    const rel = origin.startsWith(root) ? origin.slice(root.length + 1) : origin;
    const file = clusterKeyFile(cluster.dir);
    return origin === file && isExampleKeyText(readFileSync(file, 'utf8')) ? `${rel} (example key)` : rel;
  });
}

/** The committed example keys (first line marked as an example), by cluster: public, so anyone can use them. */
export function exampleKeys(root: string): Array<{ cluster: string; file: string; text: string }> {
  return listClusters(root).flatMap((name) => {
    const file = join(root, 'clusters', name, 'age.key');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return isExampleKeyText(text) ? [{ cluster: name, file, text }] : [];
  });
}

/** Recipients of every committed example key: anything encrypted to them is readable by anyone. */
export async function exampleRecipients(root: string): Promise<Map<string, string>> {
  const recipients = new Map<string, string>();
  for (const { cluster, file, text } of exampleKeys(root)) {
    for (const identity of parseAgeKeyText(text, file)) recipients.set(await ageRecipientOf(identity), `clusters/${cluster}/age.key`);
  }
  return recipients;
}

/**
 * apply refuses a cluster whose secrets an example key can open: its own age.key is marked as an example,
 * or cluster.yaml still lists an example key's recipient.
 */
export async function assertNoExampleKey(root: string, cluster: LoadedCluster): Promise<void> {
  const hint = `create a real key and re-encrypt this cluster's secrets with: gw-secrets rekey --cluster=${cluster.name}`;
  const own = clusterKeyFile(cluster.dir);
  if (existsSync(own) && isExampleKeyText(readFileSync(own, 'utf8'))) {
    throw new UserError(`refusing to apply ${cluster.name}: clusters/${cluster.name}/age.key is an example key, public in this repository`, { hint });
  }
  const examples = await exampleRecipients(root);
  for (const recipient of cluster.config.sops.age) {
    const source = examples.get(recipient);
    if (source) throw new UserError(`refusing to apply ${cluster.name}: cluster.yaml sops.age lists the public example key from ${source}`, { hint });
  }
}

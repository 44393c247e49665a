import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PRIVATE_FILE_MODE, renderedDir, replaceDirectoryAtomic, type OutputFile } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { fileStatus, formatForPath, keyId, metadataFromMapping, openEncrypted, storeFor, SopsError } from '../sops/index.ts';
import { applicableSecrets, discoverDeclarations } from './declarations.ts';
import { clusterSecretFiles, inspectManifest, missingSecrets, staleCopies } from './manifests.ts';
import { exampleValuesIn } from './provenance.ts';
import { clusterRecipients, coverageProblems, loadRepoSopsConfig } from './sops-rules.ts';
import { clusterKeyServices, identityOrigins } from './identity.ts';

export const LAYER = 'secrets-sops';

function secretManifests(files: string[], cluster: string): string[] {
  return files.filter((f) => f.startsWith(`clusters/${cluster}/secrets/`));
}

/** The rendered folder: the encrypted manifests, and an index of what they are (no values). */
function renderedFiles(root: string, cluster: LoadedCluster, manifests: string[]): OutputFile[] {
  const files: OutputFile[] = [];
  const index: string[] = ['# Encrypted Kubernetes Secrets of this cluster, copied from clusters/<name>/secrets/.', 'secrets:'];
  for (const path of manifests) {
    const info = inspectManifest(root, path);
    const target = `secrets/${relative(`clusters/${cluster.name}/secrets`, path)}`;
    files.push({ path: target, data: readFileSync(join(root, path)), mode: PRIVATE_FILE_MODE });
    index.push(`  - file: ${target}`, `    namespace: ${info.namespace ?? ''}`, `    name: ${info.name ?? ''}`, `    keys: [${info.keys.join(', ')}]`);
  }
  if (manifests.length === 0) index[1] = 'secrets: []';
  files.push({ path: 'index.yaml', data: `${index.join('\n')}\n`, mode: PRIVATE_FILE_MODE });
  return files;
}

/**
 * generate: `.sops.yaml` must cover every secret path of the cluster with its recipients, every declared
 * secret must exist with all its keys, and the encrypted manifests are copied into the rendered folder.
 */
export async function generateSecrets(root: string, cluster: LoadedCluster): Promise<{ problems: string[]; files: number; missing: string[] }> {
  const files = clusterSecretFiles(root, cluster.name);
  const config = loadRepoSopsConfig(root);
  const problems = coverageProblems(root, cluster, files, config);
  const declared = applicableSecrets(await discoverDeclarations(root), cluster.config);
  // Values nobody has provided yet do not stop the rendering (talos-config and the rest need none of them);
  // the apply of the layer that uses one refuses until it exists.
  const missing = missingSecrets(root, cluster, declared);
  for (const path of secretManifests(files, cluster.name)) {
    const info = inspectManifest(root, path);
    if (info.kind !== 'Secret') problems.push(`${path}: not a Kubernetes Secret manifest (kind: ${info.kind ?? 'none'})`);
  }
  if (problems.length) return { problems, files: 0, missing };
  const output = renderedFiles(root, cluster, secretManifests(files, cluster.name));
  replaceDirectoryAtomic(renderedDir(root, cluster.name, LAYER), output, { dirMode: 0o700 });
  return { problems: [], files: output.length, missing };
}

export interface VerifyReport {
  problems: string[];
  notes: string[];
}

/**
 * verify: every secret file is encrypted (and a manifest has no plaintext value), its recipients are the
 * ones `.sops.yaml` names for it, its MAC is valid when an identity is at hand, and the rendered copies
 * are the current ones.
 */
export async function verifySecrets(root: string, cluster: LoadedCluster): Promise<VerifyReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const files = clusterSecretFiles(root, cluster.name);
  const config = loadRepoSopsConfig(root);
  problems.push(...coverageProblems(root, cluster, files, config));
  const services = await clusterKeyServices(cluster);
  const wanted = clusterRecipients(cluster).join(', ');
  let verified = 0;
  let unopened = 0;
  for (const path of files) {
    const bytes = new Uint8Array(readFileSync(join(root, path)));
    const store = storeFor(formatForPath(path));
    if (!fileStatus(bytes, store).encrypted) {
      problems.push(`${path}: not encrypted (no sops metadata with a MAC)`);
      continue;
    }
    if (path.startsWith(`clusters/${cluster.name}/secrets/`)) {
      const leaks = inspectManifest(root, path).plaintextKeys;
      if (leaks.length) problems.push(`${path}: plaintext value under data/stringData for ${leaks.join(', ')}`);
    }
    const metadata = metadataFromMapping(store.loadEncrypted(bytes).metadata);
    const recipients = metadata.keyGroups.flat().map(keyId).sort().join(', ');
    if (recipients !== wanted) problems.push(`${path}: encrypted to [${recipients}] but .sops.yaml names [${wanted}] (run: gw-sops updatekeys -y ${path})`);
    try {
      await openEncrypted(bytes, store, services);
      verified++;
    } catch (error) {
      if (error instanceof SopsError && error.code === 128) unopened++;
      // The MAC values are hashes of the plaintext: they stay out of logs.
      else if (error instanceof SopsError && error.code === 51) problems.push(`${path}: MAC mismatch: the file was changed outside sops (values, MAC or lastmodified)`);
      else problems.push(`${path}: ${(error as Error).message}`);
    }
  }
  if (files.length && unopened === files.length) notes.push(`MACs not checked: no identity at hand for ${cluster.name} (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, ~/.config/sops/age/keys.txt or clusters/${cluster.name}/age.key)`);
  else if (unopened) problems.push(`${unopened} of ${files.length} secret files could not be opened with the identities at hand (${identityOrigins(services, root, cluster).join(', ')})`);
  if (verified) notes.push(`${verified} MAC${verified === 1 ? '' : 's'} verified with ${identityOrigins(services, root, cluster).join(', ')}`);
  if (verified && !unopened) problems.push(...(await staleCopies(root, cluster, applicableSecrets(await discoverDeclarations(root), cluster.config), services)));
  // A value copied from an example cluster is public, whatever key it is now encrypted to.
  if (verified && !unopened) problems.push(...(await exampleValuesIn(root, cluster, services)).map((p) => `${p} (gw-secrets rekey regenerates generated values; set the others anew)`));
  problems.push(...staleRendering(root, cluster, secretManifests(files, cluster.name)));
  return { problems, notes };
}

function staleRendering(root: string, cluster: LoadedCluster, manifests: string[]): string[] {
  const dir = renderedDir(root, cluster.name, LAYER);
  const hint = `(run: npx nx run secrets-sops:generate --cluster=${cluster.name})`;
  if (!existsSync(join(dir, 'index.yaml'))) return [`clusters/${cluster.name}/rendered/${LAYER}/ is missing ${hint}`];
  const expected = renderedFiles(root, cluster, manifests);
  const actual = existsSync(join(dir, 'secrets')) ? listFiles(join(dir, 'secrets')).map((f) => `secrets/${f}`) : [];
  actual.push('index.yaml');
  const expectedPaths = expected.map((f) => f.path).sort();
  if (expectedPaths.join('\n') !== actual.sort().join('\n')) return [`clusters/${cluster.name}/rendered/${LAYER}/ does not match the secrets ${hint}`];
  for (const file of expected) {
    if (!Buffer.from(file.data).equals(readFileSync(join(dir, file.path)))) return [`clusters/${cluster.name}/rendered/${LAYER}/${file.path} is stale ${hint}`];
  }
  return [];
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

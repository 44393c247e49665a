import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, YAMLSeq } from 'yaml';
import { PRIVATE_FILE_MODE, UserError, execFile, listClusters, writeFileAtomic } from '@groundwork/kit';
import { clusterKeyFile, isExampleKeyText, loadCluster, validateClusterText, type LoadedCluster } from '@groundwork/cluster';
import { ageRecipientOf, generateAgeIdentity, nowRfc3339, openEncrypted, parseAgeKeyText, rotate, storeFor, formatForPath, type AgeRecipientKind } from '../sops/index.ts';
import { clusterSecretFiles, inspectManifest, manifestPath, readSecretValues, setValues, updateManifest } from './manifests.ts';
import { applicableSecrets, discoverDeclarations, generateValue, isCopy, isGenerated } from './declarations.ts';
import { syncSopsConfig } from './sops-rules.ts';
import { clusterKeyServices, exampleRecipients } from './identity.ts';

function keyFileText(cluster: string, identity: string, recipient: string): string {
  return [
    `# groundwork age key for cluster ${cluster}. Private: keep it out of Git and back it up somewhere safe.`,
    `# created: ${nowRfc3339()}`,
    `# public key: ${recipient}`,
    identity,
    '',
  ].join('\n');
}

/** Rewrites cluster.yaml's sops.age list in place, keeping the rest of the file and its comments. */
export function setAgeRecipients(file: string, recipients: string[]): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const list = new YAMLSeq();
  for (const r of recipients) list.items.push(doc.createNode(r));
  if (doc.hasIn(['sops', 'age'])) {
    const existing = doc.getIn(['sops', 'age'], true) as YAMLSeq | undefined;
    if (existing && existing instanceof YAMLSeq) {
      existing.items = list.items;
      existing.flow = false;
    } else doc.setIn(['sops', 'age'], list);
  } else doc.setIn(['sops', 'age'], list);
  writeFileAtomic(file, doc.toString({ lineWidth: 0 }));
}

function isTracked(root: string, path: string): boolean {
  return execFile('git', ['ls-files', '--error-unmatch', path], { cwd: root }).status === 0;
}

function loadAllClusters(root: string): LoadedCluster[] {
  return listClusters(root).map((name) => loadCluster(root, name));
}

/**
 * init: a new key for a cluster that has none. The identity goes to clusters/<name>/age.key (0600,
 * git-ignored), its recipient into cluster.yaml, and `.sops.yaml` is regenerated.
 */
export async function initClusterKey(root: string, name: string, kind: AgeRecipientKind): Promise<string> {
  const dir = join(root, 'clusters', name);
  const keyFile = clusterKeyFile(dir);
  if (existsSync(keyFile)) throw new UserError(`clusters/${name}/age.key already exists`, { hint: `to replace it, run: gw-secrets rekey --cluster=${name}` });
  const file = join(dir, 'cluster.yaml');
  const outcome = validateClusterText(readFileSync(file, 'utf8'), `clusters/${name}/cluster.yaml`, name);
  const blocking = outcome.errors.filter((e) => !e.includes(': sops'));
  if (blocking.length) throw new UserError(`fix clusters/${name}/cluster.yaml first:\n  - ${blocking.join('\n  - ')}`);
  const { identity, recipient } = await generateAgeIdentity(kind);
  writeFileAtomic(keyFile, keyFileText(name, identity, recipient), { mode: PRIVATE_FILE_MODE });
  const current = (outcome.config?.sops.age ?? []).filter((r) => r !== recipient);
  setAgeRecipients(file, [...current, recipient]);
  syncSopsConfig(root, loadAllClusters(root));
  return recipient;
}

export interface RekeyReport {
  recipient: string;
  /** Generated values made anew because the old ones were readable with an example key. */
  regenerated: string[];
  /** Values a person gave, now public: `namespace/name key`, to set anew. */
  toReplace: string[];
  /** Where the replaced key was kept (a real key is never thrown away). */
  kept?: string;
  removed: string[];
  rotated: string[];
  untracked: boolean;
  exposed: boolean;
}

/**
 * rekey: replaces the cluster's own key (typically the public example key of a copied example) with a new
 * one. Every secret file gets a new data key, encrypted to the new recipient list; the old key file is
 * replaced and, if Git tracked it, untracked.
 */
export async function rekeyCluster(root: string, name: string, kind: AgeRecipientKind, options: { replaceKey?: boolean; now?: Date } = {}): Promise<RekeyReport> {
  const cluster = loadCluster(root, name);
  const keyFile = clusterKeyFile(cluster.dir);
  const oldText = existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : '';
  const oldRecipients = await Promise.all(parseAgeKeyText(oldText, keyFile).map(ageRecipientOf));
  const examples = await exampleRecipients(root);
  const exposed = isExampleKeyText(oldText) || cluster.config.sops.age.some((r) => examples.has(r));
  // A real key may have encrypted things this repository does not hold (backups in a bucket): never lose it.
  const real = oldRecipients.length > 0 && !isExampleKeyText(oldText);
  if (real && !options.replaceKey) {
    throw new UserError(`clusters/${name}/age.key is this cluster's own key, not an example one: backups and anything else encrypted to it open only with it`, {
      hint: `to replace it anyway, run: gw-secrets rekey --cluster=${name} --replace-key (the old key is kept beside it as age.key.old-<date> until you delete it)`,
    });
  }
  const services = await clusterKeyServices(cluster);
  const files = clusterSecretFiles(root, name);
  // Open everything with the old identities before anything changes, so a missing identity stops here.
  const opened = [];
  for (const path of files) {
    const store = storeFor(formatForPath(path));
    opened.push({ path, store, file: await openEncrypted(new Uint8Array(readFileSync(join(root, path))), store, services) });
  }
  const { identity, recipient } = await generateAgeIdentity(kind);
  const removed = cluster.config.sops.age.filter((r) => oldRecipients.includes(r) || examples.has(r));
  const recipients = [...cluster.config.sops.age.filter((r) => !removed.includes(r)), recipient];
  const rel = `clusters/${name}/age.key`;
  const untracked = isTracked(root, rel);
  if (untracked) execFile('git', ['rm', '--cached', '--quiet', rel], { cwd: root });
  let kept: string | undefined;
  if (real) {
    kept = `clusters/${name}/age.key.old-${(options.now ?? new Date()).toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    writeFileAtomic(join(root, kept), oldText, { mode: PRIVATE_FILE_MODE });
  }
  if (existsSync(keyFile)) unlinkSync(keyFile);
  writeFileAtomic(keyFile, keyFileText(name, identity, recipient), { mode: PRIVATE_FILE_MODE });
  setAgeRecipients(cluster.file, recipients);
  syncSopsConfig(root, loadAllClusters(root));
  for (const { path, store, file } of opened) {
    const next = await rotate(file, store, services, { addAge: [recipient], removeAge: removed });
    writeFileAtomic(join(root, path), next, { mode: PRIVATE_FILE_MODE });
  }
  const { regenerated, toReplace } = exposed ? await regenerateExposed(root, name) : { regenerated: [], toReplace: [] };
  return { recipient, removed, rotated: files, untracked, exposed, regenerated, toReplace, ...(kept ? { kept } : {}) };
}

/**
 * After a rekey away from an example key: every generated value is made anew (the old ones are public), copies
 * follow, and the values a person gave are listed to be set anew. Only the cluster's new key is used.
 */
async function regenerateExposed(root: string, name: string): Promise<{ regenerated: string[]; toReplace: string[] }> {
  const cluster = loadCluster(root, name);
  const services = await clusterKeyServices(cluster);
  const declared = applicableSecrets(await discoverDeclarations(root), cluster.config);
  const regenerated: string[] = [];
  const toReplace: string[] = [];
  for (const secret of declared) {
    const path = manifestPath(name, secret.namespace, secret.name);
    if (!existsSync(join(root, path))) continue;
    const present = new Set(inspectManifest(root, path).keys);
    const fresh: Record<string, string> = {};
    for (const [key, spec] of Object.entries(secret.keys)) {
      if (!present.has(key)) continue;
      if (isGenerated(spec)) fresh[key] = generateValue(spec);
      else if ('provided' in spec) toReplace.push(`${secret.namespace}/${secret.name} ${key}`);
    }
    if (Object.keys(fresh).length === 0) continue;
    await updateManifest(root, path, services, (stringData) => setValues(stringData, fresh));
    regenerated.push(...Object.keys(fresh).map((key) => `${secret.namespace}/${secret.name} ${key}`));
  }
  // Copies of regenerated values follow their sources (only where both exist; nothing new is created).
  for (const secret of declared) {
    const path = manifestPath(name, secret.namespace, secret.name);
    if (!existsSync(join(root, path))) continue;
    const copies: Record<string, string> = {};
    for (const [key, spec] of Object.entries(secret.keys)) {
      if (!isCopy(spec)) continue;
      const source = manifestPath(name, spec.copyOf.namespace, spec.copyOf.name);
      const value = existsSync(join(root, source)) ? (await readSecretValues(root, source, services))[spec.copyOf.key] : undefined;
      if (value !== undefined) copies[key] = value;
    }
    if (Object.keys(copies).length) await updateManifest(root, path, services, (stringData) => setValues(stringData, copies));
  }
  return { regenerated, toReplace };
}

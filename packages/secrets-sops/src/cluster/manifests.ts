import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic, PRIVATE_FILE_MODE } from '@groundwork/kit';
import { writeEncryptedFile } from './files.ts';
import type { LoadedCluster } from '@groundwork/cluster';
import {
  Mapping,
  isEncryptedValue,
  openEncrypted,
  sealOpenFile,
  storeFor,
  type KeyServices,
  type SopsConfig,
  type Value,
} from '../sops/index.ts';
import { generateValue, isCopy, isGenerated, valueOrigin, type ApplicableSecret, type SecretKeyRef } from './declarations.ts';

/** Secrets are Kubernetes Secret manifests at clusters/<name>/secrets/<namespace>/<secret>.sops.yaml. */
export function manifestPath(cluster: string, namespace: string, name: string): string {
  return `clusters/${cluster}/secrets/${namespace}/${name}.sops.yaml`;
}

/** Every SOPS file of a cluster (workspace-relative, sorted), the rendered folder excepted. */
export function clusterSecretFiles(root: string, cluster: string): string[] {
  const base = join(root, 'clusters', cluster);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        if (!(dir === base && entry === 'rendered')) walk(path);
      } else if (/\.sops\.(ya?ml|json|env|ini)$/.test(entry)) out.push(relative(root, path).split('\\').join('/'));
    }
  };
  if (existsSync(base)) walk(base);
  return out;
}

export interface ManifestInfo {
  path: string;
  kind: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
  /** Keys under data and stringData, readable without decrypting. */
  keys: string[];
  /** Values under data/stringData that are not ENC[…] (and not empty): a plaintext leak. */
  plaintextKeys: string[];
}

/** What can be learnt from an encrypted manifest without any key: its identity and key names. */
export function inspectManifest(root: string, path: string): ManifestInfo {
  const { branches } = storeFor('yaml').loadEncrypted(new Uint8Array(readFileSync(join(root, path))));
  const doc = branches[0] ?? new Mapping();
  const metadata = doc.get('metadata');
  const text = (v: Value | undefined) => (typeof v === 'string' ? v : undefined);
  const keys: string[] = [];
  const plaintextKeys: string[] = [];
  for (const field of ['data', 'stringData']) {
    const section = doc.get(field);
    if (!(section instanceof Mapping)) continue;
    for (const entry of section.entries()) {
      keys.push(String(entry.key));
      if (!(typeof entry.value === 'string' && (entry.value === '' || isEncryptedValue(entry.value)))) plaintextKeys.push(String(entry.key));
    }
  }
  return {
    path,
    kind: text(doc.get('kind')),
    namespace: metadata instanceof Mapping ? text(metadata.get('namespace')) : undefined,
    name: metadata instanceof Mapping ? text(metadata.get('name')) : undefined,
    keys,
    plaintextKeys,
  };
}

/** What is missing for a cluster's declared secrets, from key names alone (no identity needed). */
export function missingSecrets(root: string, cluster: LoadedCluster, declared: ApplicableSecret[]): string[] {
  const missing: string[] = [];
  for (const secret of declared) {
    const path = manifestPath(cluster.name, secret.namespace, secret.name);
    const present = existsSync(join(root, path)) ? new Set(inspectManifest(root, path).keys) : undefined;
    for (const [key, spec] of Object.entries(secret.keys)) {
      if (present?.has(key)) continue;
      const ref = `${secret.namespace}/${secret.name}`;
      missing.push(
        'provided' in spec
          ? `${path}: ${key} (${spec.provided}; set it with: gw-secrets set --cluster=${cluster.name} ${ref} ${key} < value-file)`
          : `${path}: ${key} (${valueOrigin(spec)}; run: gw-secrets create --cluster=${cluster.name})`,
      );
    }
  }
  return missing;
}

function plainManifest(secret: ApplicableSecret, values: Record<string, string>): Mapping {
  return new Mapping([
    { key: 'apiVersion', value: 'v1' },
    { key: 'kind', value: 'Secret' },
    {
      key: 'metadata',
      value: new Mapping([
        { key: 'name', value: secret.name },
        { key: 'namespace', value: secret.namespace },
        { key: 'labels', value: new Mapping([{ key: 'app.kubernetes.io/managed-by', value: 'groundwork' }, { key: 'groundwork.dev/layer', value: secret.layer }]) },
        { key: 'annotations', value: new Mapping([{ key: 'groundwork.dev/description', value: secret.description }]) },
      ]),
    },
    { key: 'type', value: secret.type ?? 'Opaque' },
    { key: 'stringData', value: new Mapping(Object.entries(values).map(([key, value]) => ({ key, value }))) },
  ]);
}

export interface CreateReport {
  created: string[];
  completed: string[];
  /** Copies brought back in line with a source value that changed. */
  refreshed: string[];
  untouched: string[];
  /** Copies that could not be made yet: their source is missing. */
  waiting: string[];
}

/** The values of a Secret manifest (stringData, and data decoded), decrypted in memory. */
export async function readSecretValues(root: string, path: string, services: KeyServices): Promise<Record<string, string>> {
  const opened = await openEncrypted(new Uint8Array(readFileSync(join(root, path))), storeFor('yaml'), services);
  const doc = opened.branches[0];
  const values: Record<string, string> = {};
  for (const [field, decode] of [['data', (v: string) => Buffer.from(v, 'base64').toString('utf8')], ['stringData', (v: string) => v]] as const) {
    const section = doc?.get(field);
    if (!(section instanceof Mapping)) continue;
    for (const entry of section.entries()) if (typeof entry.value === 'string') values[String(entry.key)] = decode(entry.value);
  }
  return values;
}

/** Copies are made after every original exists, so one `create` run completes both. */
const copiesLast = (a: ApplicableSecret, b: ApplicableSecret) => Number(Object.values(a.keys).some(isCopy)) - Number(Object.values(b.keys).some(isCopy));

/**
 * Creates every missing generated secret, fills in missing generated keys of existing ones, and makes or
 * refreshes copies. Existing generated and provided values are never replaced; keys only a person can
 * provide are left for `gw-secrets set`.
 */
export async function createMissingSecrets(root: string, cluster: LoadedCluster, declared: ApplicableSecret[], services: KeyServices, config: SopsConfig | undefined): Promise<CreateReport> {
  const report: CreateReport = { created: [], completed: [], refreshed: [], untouched: [], waiting: [] };
  const store = storeFor('yaml');
  const sourceValue = async (ref: SecretKeyRef): Promise<string | undefined> => {
    const path = manifestPath(cluster.name, ref.namespace, ref.name);
    return existsSync(join(root, path)) ? (await readSecretValues(root, path, services))[ref.key] : undefined;
  };
  for (const secret of [...declared].sort(copiesLast)) {
    const path = manifestPath(cluster.name, secret.namespace, secret.name);
    const exists = existsSync(join(root, path));
    const present = new Set(exists ? inspectManifest(root, path).keys : []);
    // Values are decrypted only to compare copies; generated keys are judged by their names alone.
    const hasCopies = Object.values(secret.keys).some(isCopy);
    const current = exists && hasCopies ? await readSecretValues(root, path, services) : {};
    const changes: Record<string, string> = {};
    for (const [key, spec] of Object.entries(secret.keys)) {
      if (isGenerated(spec) && !present.has(key)) changes[key] = generateValue(spec);
      if (!isCopy(spec)) continue;
      const value = await sourceValue(spec.copyOf);
      if (value === undefined) report.waiting.push(`${path}: ${key} (${valueOrigin(spec)}, which is missing)`);
      else if (current[key] !== value) changes[key] = value;
    }
    const keys = Object.keys(changes);
    if (keys.length === 0) {
      if (exists) report.untouched.push(path);
      continue;
    }
    if (!exists) {
      await writeEncryptedFile(root, path, store.emitPlain([plainManifest(secret, changes)]), services, config);
      report.created.push(path);
      continue;
    }
    await updateManifest(root, path, services, (stringData) => setValues(stringData, changes));
    (keys.some((k) => present.has(k)) ? report.refreshed : report.completed).push(path);
  }
  return report;
}

/** Copies whose value differs from their source's (both decrypted in memory; nothing is printed). */
export async function staleCopies(root: string, cluster: LoadedCluster, declared: ApplicableSecret[], services: KeyServices): Promise<string[]> {
  const stale: string[] = [];
  const read = async (namespace: string, name: string): Promise<Record<string, string>> => {
    const path = manifestPath(cluster.name, namespace, name);
    return existsSync(join(root, path)) ? readSecretValues(root, path, services) : {};
  };
  for (const secret of declared) {
    for (const [key, spec] of Object.entries(secret.keys)) {
      if (!isCopy(spec)) continue;
      const copy = (await read(secret.namespace, secret.name))[key];
      const source = (await read(spec.copyOf.namespace, spec.copyOf.name))[spec.copyOf.key];
      if (copy !== undefined && source !== undefined && copy !== source) {
        stale.push(`${manifestPath(cluster.name, secret.namespace, secret.name)}: ${key} differs from ${spec.copyOf.namespace}/${spec.copyOf.name} ${spec.copyOf.key} (run: gw-secrets create --cluster=${cluster.name} to copy it again)`);
      }
    }
  }
  return stale;
}

/** Sets keys in a manifest's stringData: replaced where present, added where not. */
export function setValues(stringData: Mapping, values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    const entry = stringData.entries().find((e) => e.key === key);
    if (entry) entry.value = value;
    else stringData.items.push({ key, value });
  }
}

/** Decrypts a manifest in memory, changes its stringData, and re-encrypts it with the same data key. */
export async function updateManifest(root: string, path: string, services: KeyServices, change: (stringData: Mapping) => void): Promise<void> {
  const store = storeFor('yaml');
  const file = join(root, path);
  const opened = await openEncrypted(new Uint8Array(readFileSync(file)), store, services);
  const doc = opened.branches[0]!;
  let stringData = doc.get('stringData');
  if (!(stringData instanceof Mapping)) {
    stringData = new Mapping();
    doc.items.push({ key: 'stringData', value: stringData });
  }
  change(stringData);
  writeFileAtomic(file, sealOpenFile(opened, store), { mode: PRIVATE_FILE_MODE });
}

/** Sets one key of a cluster secret, creating the manifest when it does not exist yet. */
export async function setSecretValue(
  root: string,
  cluster: LoadedCluster,
  secret: ApplicableSecret,
  key: string,
  value: string,
  services: KeyServices,
  config: SopsConfig | undefined,
): Promise<'created' | 'updated'> {
  const path = manifestPath(cluster.name, secret.namespace, secret.name);
  if (!existsSync(join(root, path))) {
    await writeEncryptedFile(root, path, storeFor('yaml').emitPlain([plainManifest(secret, { [key]: value })]), services, config);
    return 'created';
  }
  await updateManifest(root, path, services, (stringData) => {
    const entry = stringData.entries().find((e) => e.key === key);
    if (entry) entry.value = value;
    else stringData.items.push({ key, value });
  });
  return 'updated';
}

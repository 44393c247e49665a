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
import { generateValue, isGenerated, type ApplicableSecret } from './declarations.ts';

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
        isGenerated(spec)
          ? `${path}: ${key} (generated; run: gw-secrets create --cluster=${cluster.name})`
          : `${path}: ${key} (${spec.provided}; set it with: gw-secrets set --cluster=${cluster.name} ${ref} ${key} < value-file)`,
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
  untouched: string[];
}

/**
 * Creates every missing generated secret and fills in missing generated keys of existing ones. Existing
 * values are never replaced; keys only a person can provide are left for `gw-secrets set`.
 */
export async function createMissingSecrets(root: string, cluster: LoadedCluster, declared: ApplicableSecret[], services: KeyServices, config: SopsConfig | undefined): Promise<CreateReport> {
  const report: CreateReport = { created: [], completed: [], untouched: [] };
  const store = storeFor('yaml');
  for (const secret of declared) {
    const path = manifestPath(cluster.name, secret.namespace, secret.name);
    const file = join(root, path);
    const generated = Object.entries(secret.keys).filter(([, spec]) => isGenerated(spec));
    if (!existsSync(file)) {
      if (generated.length === 0) continue;
      const values = Object.fromEntries(generated.map(([key, spec]) => [key, generateValue(spec as Parameters<typeof generateValue>[0])]));
      await writeEncryptedFile(root, path, store.emitPlain([plainManifest(secret, values)]), services, config);
      report.created.push(path);
      continue;
    }
    const present = new Set(inspectManifest(root, path).keys);
    const absent = generated.filter(([key]) => !present.has(key));
    if (absent.length === 0) {
      report.untouched.push(path);
      continue;
    }
    await updateManifest(root, path, services, (stringData) => {
      for (const [key, spec] of absent) stringData.items.push({ key, value: generateValue(spec as Parameters<typeof generateValue>[0]) });
    });
    report.completed.push(path);
  }
  return report;
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

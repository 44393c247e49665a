import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProblemList } from '@groundwork/kit';
import type { Cluster } from '@groundwork/cluster';

/**
 * Layers declare the Kubernetes Secrets they need in `packages/<layer>/src/secrets.ts` (default export of
 * defineSecrets). secrets-sops finds those files by path and never imports a layer by name, so the
 * dependency still points from the layers to secrets-sops.
 */

export type SecretValueSpec =
  /** A random value groundwork creates: alphanumeric password, hex or base64 of N random bytes. */
  | { generate: 'password'; length?: number }
  | { generate: 'hex' | 'base64'; bytes: number }
  /** A value only a person can give (a Cloudflare token, S3 credentials); the text says where to get it. */
  | { provided: string }
  /**
   * The same value as another declared Secret's key, for a Secret another namespace needs (a backup job's
   * database password): `gw-secrets create` copies it, and copies it again when the source changes.
   */
  | { copyOf: SecretKeyRef };

export interface SecretKeyRef {
  namespace: string;
  name: string;
  key: string;
}

export interface SecretDeclaration {
  /** A function when the cluster file names the namespace (the dr layer's is configurable). */
  namespace: string | ((cluster: Cluster) => string);
  name: string;
  description: string;
  /** Kubernetes Secret type; Opaque unless said otherwise. */
  type?: string;
  /** The keys and where their values come from; a function when they depend on the cluster file. */
  keys: Record<string, SecretValueSpec> | ((cluster: Cluster) => Record<string, SecretValueSpec>);
  /** Whether this cluster needs the Secret (e.g. only when a feature is on). Default: always. */
  when?: (cluster: Cluster) => boolean;
}

export interface LayerSecrets {
  layer: string;
  secrets: SecretDeclaration[];
  /** Secrets that exist only per cluster (one per app of clusters/<name>/apps/): worked out for each cluster. */
  perCluster?: (cluster: Cluster) => SecretDeclaration[];
}

export function defineSecrets(layer: string, secrets: SecretDeclaration[], perCluster?: (cluster: Cluster) => SecretDeclaration[]): LayerSecrets {
  return { layer, secrets, ...(perCluster ? { perCluster } : {}) };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

function keyProblems(layer: string, id: string, keys: Record<string, SecretValueSpec>): string[] {
  const names = Object.keys(keys);
  const problems = names.length === 0 ? [`${layer}: ${id}: declares no keys`] : [];
  for (const key of names) if (!SECRET_KEY.test(key)) problems.push(`${layer}: ${id}: key "${key}" is not a valid Secret key`);
  return problems;
}

export function validateDeclarations(layers: LayerSecrets[]): void {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { layer, secrets } of layers) {
    for (const secret of secrets) {
      const namespace = typeof secret.namespace === 'function' ? '<per cluster>' : secret.namespace;
      const id = `${namespace}/${secret.name}`;
      if (typeof secret.namespace === 'string' && !DNS_LABEL.test(secret.namespace)) problems.push(`${layer}: ${id}: namespace must be a DNS label`);
      if (!DNS_LABEL.test(secret.name)) problems.push(`${layer}: ${id}: name must be a DNS label`);
      if (seen.has(id)) problems.push(`${layer}: ${id} is also declared by ${seen.get(id)}`);
      seen.set(id, layer);
      if (typeof secret.keys === 'function') continue;
      problems.push(...keyProblems(layer, id, secret.keys));
    }
  }
  if (problems.length) throw new ProblemList('invalid secret declarations:', problems);
}

/** Finds and loads every layer's declarations, in a stable order (by layer folder). */
export async function discoverDeclarations(root: string): Promise<LayerSecrets[]> {
  const packages = join(root, 'packages');
  if (!existsSync(packages)) return [];
  const layers: LayerSecrets[] = [];
  for (const name of readdirSync(packages).sort()) {
    const file = join(packages, name, 'src', 'secrets.ts');
    if (!existsSync(file)) continue;
    const module = (await import(pathToFileURL(file).href)) as { default?: LayerSecrets };
    if (!module.default || !Array.isArray(module.default.secrets)) {
      throw new ProblemList('invalid secret declarations:', [`packages/${name}/src/secrets.ts must export default defineSecrets(...)`]);
    }
    layers.push(module.default);
  }
  validateDeclarations(layers);
  return layers;
}

export interface ApplicableSecret extends Omit<SecretDeclaration, 'namespace'> {
  namespace: string;
  layer: string;
  keys: Record<string, SecretValueSpec>;
}

/**
 * The declarations a cluster needs, given its features, with their keys worked out for it. A
 * declaration whose keys come out empty (nothing in the cluster file needs a value) is left out.
 */
export function applicableSecrets(layers: LayerSecrets[], cluster: Cluster): ApplicableSecret[] {
  const out: ApplicableSecret[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { layer, secrets, perCluster } of layers) {
    for (const secret of [...secrets, ...(perCluster?.(cluster) ?? [])]) {
      if (secret.when && !secret.when(cluster)) continue;
      const keys = typeof secret.keys === 'function' ? secret.keys(cluster) : secret.keys;
      const namespace = typeof secret.namespace === 'function' ? secret.namespace(cluster) : secret.namespace;
      if (!DNS_LABEL.test(namespace)) problems.push(`${layer}: ${namespace}/${secret.name}: namespace must be a DNS label`);
      if (!DNS_LABEL.test(secret.name)) problems.push(`${layer}: ${namespace}/${secret.name}: name must be a DNS label`);
      const id = `${namespace}/${secret.name}`;
      if (seen.has(id) && seen.get(id) !== layer) problems.push(`${layer}: ${id} is also declared by ${seen.get(id)}`);
      seen.set(id, layer);
      if (typeof secret.keys === 'function') {
        if (Object.keys(keys).length === 0) continue;
        problems.push(...keyProblems(layer, `${namespace}/${secret.name}`, keys));
      }
      out.push({ ...secret, namespace, layer, keys });
    }
  }
  for (const secret of out) {
    for (const [key, spec] of Object.entries(secret.keys)) {
      if (!isCopy(spec)) continue;
      const { namespace, name, key: sourceKey } = spec.copyOf;
      const source = out.find((s) => s.namespace === namespace && s.name === name);
      if (!source || !(sourceKey in source.keys) || isCopy(source.keys[sourceKey]!)) {
        problems.push(`${secret.layer}: ${secret.namespace}/${secret.name}: ${key} copies ${namespace}/${name} ${sourceKey}, which no layer declares (as an original value) for this cluster`);
      }
    }
  }
  if (problems.length) throw new ProblemList('invalid secret declarations:', problems);
  return out;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh random value for a generated key (unbiased draws from the CSPRNG). */
export function generateValue(spec: GeneratedSpec): string {
  if (spec.generate === 'password') {
    return Array.from({ length: spec.length ?? 32 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
  }
  const bytes = randomBytes(spec.bytes);
  return spec.generate === 'hex' ? bytes.toString('hex') : bytes.toString('base64');
}

export type GeneratedSpec = Extract<SecretValueSpec, { generate: string }>;

export function isGenerated(spec: SecretValueSpec): spec is GeneratedSpec {
  return 'generate' in spec;
}

export function isCopy(spec: SecretValueSpec): spec is { copyOf: SecretKeyRef } {
  return 'copyOf' in spec;
}

/** How a key gets its value, for status lines and messages. */
export function valueOrigin(spec: SecretValueSpec): string {
  if (isGenerated(spec)) return 'generated';
  if (isCopy(spec)) return `copy of ${spec.copyOf.namespace}/${spec.copyOf.name} ${spec.copyOf.key}`;
  return `provided: ${spec.provided}`;
}

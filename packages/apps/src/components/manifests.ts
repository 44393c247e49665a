import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { ProblemList } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { isRecord, type KubeObject } from '@groundwork/kube';

/**
 * Plain manifests a user brings from elsewhere: clusters/<name>/manifests/**\/*.yaml, every document an object.
 * They go through the same schema and policy checks and the same apply (with the apps layer's ApplySet, so a
 * removed file's objects are pruned). What they cannot be is a half-read file: any problem stops generate.
 */

/** Kinds that live outside namespaces; everything else must name its namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'PriorityClass', 'IngressClass',
  'PersistentVolume', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'APIService', 'RuntimeClass', 'CSIDriver', 'VolumeSnapshotClass', 'IPAddress', 'ServiceCIDR',
]);

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    });
}

function documentProblems(object: unknown): string[] {
  if (!isRecord(object)) return ['(document): must be a Kubernetes object (a mapping)'];
  const problems: string[] = [];
  for (const field of ['apiVersion', 'kind'] as const) if (typeof object[field] !== 'string') problems.push(`${field}: required`);
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  if (typeof metadata.name !== 'string') problems.push('metadata.name: required (generateName cannot be applied declaratively)');
  if (typeof object.kind === 'string' && !CLUSTER_SCOPED.has(object.kind) && typeof metadata.namespace !== 'string') problems.push(`metadata.namespace: required for a ${object.kind} (plain manifests say where they go)`);
  if (object.kind === 'List') problems.push('kind: a List is not applied; write its items as separate documents');
  return problems;
}

/** The objects of the manifests folder, in file order; every problem of every file at once. */
export function manifestObjects(cluster: LoadedCluster): { objects: KubeObject[]; files: string[] } {
  const dir = join(cluster.dir, 'manifests');
  const label = (file: string) => `clusters/${cluster.name}/${relative(cluster.dir, file)}`;
  const objects: KubeObject[] = [];
  const problems: string[] = [];
  const files = yamlFiles(dir);
  for (const file of files) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
    for (const [index, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
      const where = `${label(file)} (document ${index + 1})`;
      if (doc.errors.length) {
        problems.push(...doc.errors.map((e) => `${label(file)}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`));
        continue;
      }
      const value = doc.toJS({ maxAliasCount: 50 }) as unknown;
      if (value === null || value === undefined) continue;
      const found = documentProblems(value);
      if (found.length) problems.push(...found.map((p) => `${where}: ${p}`));
      else objects.push(value as KubeObject);
    }
  }
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) problems.push(`clusters/${cluster.name}/manifests/: ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} appears twice`);
    seen.add(id);
  }
  if (problems.length) throw new ProblemList(`clusters/${cluster.name}/manifests/ cannot be applied:`, problems, { exitCode: 2 });
  return { objects, files: files.map(label) };
}

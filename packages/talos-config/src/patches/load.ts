import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ClusterNode } from '@groundwork/cluster';

/**
 * User patches live in clusters/<name>/talos/patches/:
 *   *.yaml                  every node
 *   controlplane/*.yaml     control planes        worker/*.yaml   workers
 *   nodes/<node>/*.yaml     one node
 * They apply in that order, files by name, with Talos's strategic-merge semantics.
 */
export interface PatchFile {
  /** Workspace-relative path, for messages. */
  path: string;
  documents: Array<Record<string, unknown>>;
}

export class PatchFileError extends Error {}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile())
    .sort();
}

function readPatch(root: string, relative: string): PatchFile {
  const text = readFileSync(join(root, relative), 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  const documents: Array<Record<string, unknown>> = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new PatchFileError(`${relative}: ${error.message.split('\n')[0]}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new PatchFileError(`${relative}: a patch document must be a mapping (JSON6902 patches do not apply to multi-document Talos configs)`);
    }
    documents.push(value as Record<string, unknown>);
  }
  return { path: relative, documents };
}

export function patchesFor(root: string, cluster: string, node: ClusterNode): PatchFile[] {
  const base = `clusters/${cluster}/talos/patches`;
  const dirs = [base, `${base}/${node.role}`, `${base}/nodes/${node.name}`];
  return dirs.flatMap((dir) => yamlFiles(join(root, dir)).map((file) => readPatch(root, `${dir}/${file}`)));
}

const ROLE_FOLDERS = new Set(['controlplane', 'worker', 'nodes']);

/**
 * Folders the layout does not know (a typo such as workers/ or control-plane/ would otherwise be skipped
 * silently, its patches never applied), and folders under nodes/ that name no node.
 */
export function unknownPatchFolders(root: string, cluster: string, nodes: ClusterNode[]): string[] {
  const base = join(root, 'clusters', cluster, 'talos', 'patches');
  if (!existsSync(base)) return [];
  const folders = (dir: string) => readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory());
  const at = `clusters/${cluster}/talos/patches`;
  const problems = folders(base)
    .filter((d) => !ROLE_FOLDERS.has(d))
    .map((d) => `${at}/${d}/: not a patch folder (patches go in ${at}/ itself, controlplane/, worker/ or nodes/<node>/); its files are not applied`);
  const nodesDir = join(base, 'nodes');
  if (existsSync(nodesDir)) {
    const names = new Set(nodes.map((n) => n.name));
    problems.push(...folders(nodesDir).filter((d) => !names.has(d)).map((d) => `${at}/nodes/${d}/: no node is called ${d}`));
  }
  return problems;
}

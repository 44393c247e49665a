import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from './errors.ts';

/** The workspace root is the nearest directory holding nx.json; GROUNDWORK_ROOT overrides it (tests use it). */
export function findWorkspaceRoot(start: string = process.cwd()): string {
  const override = process.env.GROUNDWORK_ROOT;
  if (override) return resolve(override);
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'nx.json')) && existsSync(join(dir, 'clusters'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new UserError(`no groundwork workspace (nx.json and clusters/) above ${start}`);
    dir = parent;
  }
}

export function clustersDir(root: string): string {
  return join(root, 'clusters');
}

export function clusterDir(root: string, cluster: string): string {
  return join(clustersDir(root), cluster);
}

/** Where a layer's rendered output for one cluster lives: clusters/<name>/rendered/<layer>/. */
export function renderedDir(root: string, cluster: string, layer: string): string {
  return join(clusterDir(root, cluster), 'rendered', layer);
}

/**
 * The admin kubeconfig talos-config fetches when it bootstraps a cluster (0600, git-ignored), next to the
 * layer folders so that re-rendering never removes it. Kubernetes layers read it from here.
 */
export function kubeconfigPath(root: string, cluster: string): string {
  return join(clusterDir(root, cluster), 'rendered', 'kubeconfig');
}

/** Cluster folders are the directories under clusters/ that hold a cluster.yaml. */
export function listClusters(root: string): string[] {
  const dir = clustersDir(root);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'cluster.yaml')))
    .sort();
}

/** The special cluster value `*` (the targets' default) means every cluster in the repository. */
export const ALL_CLUSTERS = '*';

/**
 * Turns the --cluster value into cluster names. `*` or nothing selects all; a comma list selects several.
 * Unknown names are an error that lists the clusters that exist.
 */
export function selectClusters(root: string, value: string | undefined): string[] {
  const all = listClusters(root);
  if (value === undefined || value === '' || value === ALL_CLUSTERS) return all;
  const wanted = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of wanted) {
    if (!all.includes(name)) {
      throw new UserError(`--cluster=${name}: no cluster folder clusters/${name}/ with a cluster.yaml`, {
        exitCode: 2,
        hint: all.length ? `clusters in this repository: ${all.join(', ')}` : 'create clusters/<name>/cluster.yaml first',
      });
    }
  }
  return wanted;
}

/** A path relative to the workspace root, with forward slashes, for messages and matching. */
export function workspaceRelative(root: string, path: string): string {
  return relative(root, path).split('\\').join('/');
}

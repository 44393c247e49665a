import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderedDir, writeFileAtomic } from '@groundwork/kit';

/**
 * Whether a layer's rendering of one cluster is still what its inputs give, so that generate renders only the
 * clusters that changed. Nx caches a generate task as a whole, and every task reads all of clusters/ (a task
 * has no per-cluster inputs), so editing one cluster's file re-runs the task for every cluster; this stamp,
 * kept beside the rendering, lets the task skip each cluster whose own files (everything under
 * clusters/<name>/ but its rendered output), .sops.yaml, the workspace's code and lockfile, and the SOPS and
 * groundwork settings in the environment are the same as when it was rendered, and whose rendered files are
 * still the ones it wrote (a file edited or deleted by hand is rendered again). verify still renders in memory
 * and compares, so a wrong skip cannot go unnoticed; GROUNDWORK_RENDER_ALL=1 renders everything regardless.
 */

export const STAMP_FILE = '.inputs.sha256';

function filesUnder(dir: string, skip: (path: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (skip(path) || !existsSync(path)) return [];
      // statSync follows symlinks: a linked patch or CA file is an input like any other.
      const stat = statSync(path);
      return stat.isDirectory() ? filesUnder(path, skip) : stat.isFile() ? [path] : [];
    });
}

/** The code every layer renders with: the packages' sources (not their tests), manifests and the lockfile. */
export function codeStamp(root: string): string {
  const hash = createHash('sha256');
  const packages = join(root, 'packages');
  const files = [...filesUnder(packages, (p) => /[/\\](node_modules|test|bin)$/.test(p) || p.endsWith('.test.ts')), join(root, 'package-lock.json')];
  for (const file of files.filter((f) => existsSync(f) && statSync(f).isFile())) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** `code` is codeStamp(root), taken once per run. */
export function renderStamp(root: string, cluster: string, code: string, env: NodeJS.ProcessEnv = process.env): string {
  // The Node version is part of it too, as it is of Nx's own task hash.
  const hash = createHash('sha256').update(code).update(process.version);
  const clusterDir = join(root, 'clusters', cluster);
  const own = filesUnder(clusterDir, (p) => p === join(clusterDir, 'rendered'));
  for (const file of [...own, join(root, '.sops.yaml')].filter(existsSync)) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  const settings = Object.entries(env).filter(([k]) => (k.startsWith('SOPS_') || k.startsWith('GROUNDWORK_')) && k !== 'GROUNDWORK_EXIT_REPORT' && k !== 'GROUNDWORK_RENDER_ALL').sort(([a], [b]) => a.localeCompare(b));
  hash.update(JSON.stringify(settings));
  return hash.digest('hex');
}

/** What the rendering said when it was made, shown again when it is kept. */
export interface RenderRecord {
  stamp: string;
  /** The rendered files' digest: a file edited or deleted by hand is rendered again. */
  output?: string;
  notes: string[];
  summary?: string;
}

function outputDigest(dir: string): string {
  const hash = createHash('sha256');
  for (const file of filesUnder(dir, (p) => p === join(dir, STAMP_FILE))) hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** The record of the layer's rendering of this cluster, when it exists and was made from exactly these inputs. */
export function currentRendering(root: string, cluster: string, layer: string, stamp: string): RenderRecord | undefined {
  const path = join(renderedDir(root, cluster, layer), STAMP_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as RenderRecord;
    return record.stamp === stamp && record.output === outputDigest(renderedDir(root, cluster, layer)) ? record : undefined;
  } catch {
    return undefined;
  }
}

export function writeRenderStamp(root: string, cluster: string, layer: string, record: RenderRecord): void {
  const dir = renderedDir(root, cluster, layer);
  if (existsSync(dir)) writeFileAtomic(join(dir, STAMP_FILE), `${JSON.stringify({ ...record, output: outputDigest(dir) })}\n`);
}

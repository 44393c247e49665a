import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { PUBLIC_FILE_MODE, writeFileAtomic } from '@groundwork/kit';

/**
 * Which installer image each node last installed or upgraded to. Talos's Version call names the release but
 * not the extensions, so this record is how a changed extension list (a new schematic, the same release) is
 * seen as an upgrade to do. It is written after every node finishes, which is also what makes an interrupted
 * upgrade resumable: the next run starts with the nodes not recorded at their target. Commit it with the
 * cluster file; it holds no secrets.
 */

export const installedPath = (cluster: string) => `clusters/${cluster}/talos/installed.yaml`;

const HEADER = '# Written by gw-talos apply and upgrade: the installer image each node runs (commit it; no secrets).\n';

export function readInstalled(root: string, cluster: string): Record<string, string> {
  const path = join(root, installedPath(cluster));
  if (!existsSync(path)) return {};
  const data = parse(readFileSync(path, 'utf8')) as { nodes?: Record<string, string> } | null;
  return { ...(data?.nodes ?? {}) };
}

export function recordInstalled(root: string, cluster: string, node: string, installer: string): void {
  const nodes = { ...readInstalled(root, cluster), [node]: installer };
  const sorted = Object.fromEntries(Object.entries(nodes).sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomic(join(root, installedPath(cluster)), HEADER + stringify({ nodes: sorted }), { mode: PUBLIC_FILE_MODE });
}

export function forgetInstalled(root: string, cluster: string, node: string): void {
  const nodes = readInstalled(root, cluster);
  if (!(node in nodes)) return;
  delete nodes[node];
  writeFileAtomic(join(root, installedPath(cluster)), HEADER + stringify({ nodes }), { mode: PUBLIC_FILE_MODE });
}

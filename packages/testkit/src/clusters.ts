import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLAIMED_NAMESPACES, loadCluster, validateClusterText, type LoadedCluster } from '@groundwork/cluster';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

/** One of the example clusters in this repository's clusters/ folder. */
export function exampleCluster(name: string): LoadedCluster {
  return loadCluster(repoRoot, name);
}

/** An example cluster with its cluster file edited as text first (and validated, as a user's edit would be). */
export function exampleVariant(name: string, edit: (text: string) => string): LoadedCluster {
  const example = exampleCluster(name);
  const outcome = validateClusterText(edit(readFileSync(example.file, 'utf8')), 'cluster.yaml', name);
  if (!outcome.config) throw new Error(outcome.errors.join('\n'));
  return { ...example, config: outcome.config };
}

export const EXAMPLES = ['pi-fleet', 'proxmox-ha', 'metal-ha', 'docker-dev'] as const;

/** Namespaces a layer renders for the examples that CLAIMED_NAMESPACES does not list, by example. */
export function unclaimedNamespaces(render: (cluster: LoadedCluster) => Array<{ kind: string; metadata: { name: string } }>): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const name of EXAMPLES) {
    const extra = render(exampleCluster(name)).filter((o) => o.kind === 'Namespace' && !(o.metadata.name in CLAIMED_NAMESPACES)).map((o) => o.metadata.name);
    if (extra.length) found[name] = extra;
  }
  return found;
}

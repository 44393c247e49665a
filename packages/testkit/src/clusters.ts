import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCluster, validateClusterText, type LoadedCluster } from '@groundwork/cluster';

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

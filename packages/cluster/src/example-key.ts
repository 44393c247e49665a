import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The bundled example clusters commit their age key so a fresh clone works end to end. Such a key is public,
 * so its first line must say so, and nothing may be applied to a real cluster with it.
 */
export const EXAMPLE_KEY_HEADER =
  '# EXAMPLE KEY: committed on purpose for a bundled example cluster. It is public: do not use it for real secrets.';

const EXAMPLE_MARK = /\bexample key\b/i;

export function isExampleKeyText(text: string): boolean {
  const firstLine = text.split('\n', 1)[0] ?? '';
  return EXAMPLE_MARK.test(firstLine);
}

/** The cluster's own age identity file, clusters/<name>/age.key (git-ignored unless it is an example key). */
export function clusterKeyFile(clusterDirectory: string): string {
  return join(clusterDirectory, 'age.key');
}

export function clusterUsesExampleKeyFile(clusterDirectory: string): boolean {
  const file = clusterKeyFile(clusterDirectory);
  return existsSync(file) && isExampleKeyText(readFileSync(file, 'utf8'));
}

#!/usr/bin/env -S npx node
/**
 * Which clusters a range of commits touched, so CI applies only those. A change inside clusters/<name>/
 * touches that cluster; a change to code, the workspace configuration or .sops.yaml touches them all;
 * documentation touches none.
 */
import { UserError, execFile, findWorkspaceRoot, listClusters, runCommand } from '@groundwork/kit';

/** Paths that never change what is applied to a cluster. */
const INERT = [/^docs\//, /\.md$/i, /^LICENSE/, /^\.github\//, /^\.ci\//, /^\.vscode\//, /^\.editorconfig$/, /^\.nvmrc$/];

export function clustersTouched(changedFiles: string[], clusters: string[]): string[] {
  const touched = new Set<string>();
  for (const file of changedFiles) {
    const inCluster = /^clusters\/([^/]+)\//.exec(file);
    if (inCluster) {
      if (clusters.includes(inCluster[1]!)) touched.add(inCluster[1]!);
      continue;
    }
    if (INERT.some((pattern) => pattern.test(file))) continue;
    return [...clusters];
  }
  return clusters.filter((c) => touched.has(c));
}

export function changedFiles(root: string, base: string, head: string): string[] {
  const result = execFile('git', ['diff', '--name-only', '--no-renames', base, head], { cwd: root });
  if (result.status !== 0) throw new UserError(`git diff ${base} ${head} failed: ${result.stderr.toString().trim()}`);
  return result.stdout.toString('utf8').split('\n').filter(Boolean);
}

export function main(argv: string[]): Promise<number> {
  return runCommand(
    {
      usage: 'tsx tools/scripts/src/changed-clusters.ts --base=SHA [--head=SHA] [--json]',
      summary: 'Print the clusters that changed between two commits (one per line, or a JSON list for a CI matrix).',
      options: {
        base: { type: 'string', valueName: 'SHA', description: 'Base commit (default: $NX_BASE).' },
        head: { type: 'string', valueName: 'SHA', description: 'Head commit (default: $NX_HEAD or HEAD).' },
        json: { type: 'boolean', description: 'Print a JSON array.' },
      },
    },
    ({ options }) => {
      const root = findWorkspaceRoot();
      const base = options.base ?? process.env.NX_BASE;
      if (!base) throw new UserError('give --base=<commit> (or set NX_BASE)', { exitCode: 2 });
      const head = options.head ?? process.env.NX_HEAD ?? 'HEAD';
      const touched = clustersTouched(changedFiles(root, base, head), listClusters(root));
      process.stdout.write(options.json ? `${JSON.stringify(touched)}\n` : touched.map((c) => `${c}\n`).join(''));
      return 0;
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

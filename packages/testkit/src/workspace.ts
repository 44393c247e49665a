import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from '@groundwork/kit';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

export function scratchDir(prefix = 'gw-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ScratchWorkspace {
  root: string;
  git: (...args: string[]) => string;
  write: (path: string, text: string) => void;
  read: (path: string) => string;
  /** Points a cluster's layers at an API server, as talos-config's apply does (rendered/kubeconfig, private). */
  useKubeconfig: (cluster: string, kubeconfig: string) => void;
}

/** A throwaway groundwork workspace (nx.json, clusters/, packages/) that resolves @groundwork/* from this repo. */
export function scratchWorkspace(clusters: Record<string, string>, layers: Record<string, string> = {}): ScratchWorkspace {
  const root = scratchDir('gw-ws-');
  writeFileSync(join(root, 'nx.json'), '{}\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  // The repository's own ignore rules for rendered output and keys.
  const ignored = readFileSync(join(import.meta.dirname, '..', '..', '..', '.gitignore'), 'utf8').split('\n').filter((l) => l.startsWith('clusters/'));
  writeFileSync(join(root, '.gitignore'), `node_modules\n${ignored.join('\n')}\n`);
  for (const [name, text] of Object.entries(clusters)) {
    mkdirSync(join(root, 'clusters', name), { recursive: true });
    writeFileSync(join(root, 'clusters', name, 'cluster.yaml'), text);
  }
  for (const [name, text] of Object.entries(layers)) {
    mkdirSync(join(root, 'packages', name, 'src'), { recursive: true });
    writeFileSync(join(root, 'packages', name, 'src', 'secrets.ts'), text);
  }
  const git = (...args: string[]) => {
    const result = execFile('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: root });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.toString()}`);
    return result.stdout.toString();
  };
  git('init', '-q', '-b', 'main');
  return {
    root,
    git,
    write: (path, text) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    },
    read: (path) => readFileSync(join(root, path), 'utf8'),
    useKubeconfig: (cluster, kubeconfig) => {
      mkdirSync(join(root, 'clusters', cluster, 'rendered'), { recursive: true });
      writeFileSync(join(root, 'clusters', cluster, 'rendered', 'kubeconfig'), kubeconfig, { mode: 0o600 });
    },
  };
}

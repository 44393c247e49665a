import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scratch copy of this workspace for tests that run the real nx binary: the root configuration, the
 * shared libraries, secrets-sops and this plugin, plus small fake layers that log what they are asked to do.
 */

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

const COPIED = ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.gitignore', 'packages/kit', 'packages/cluster', 'packages/secrets-sops', 'tools/layer-plugin', 'tools/test'];

/**
 * A layer script that records `<layer> <action> <cluster>` and renders one file per cluster. FAKE_EXIT_<LAYER>
 * makes its apply exit with that code, reported as real layer scripts report it (recordExit).
 */
function fakeScript(layer: string, action: string): string {
  return `import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { recordExit } from '@groundwork/cluster';
const cluster = process.argv.find((a) => a.startsWith('--cluster='))?.slice('--cluster='.length) ?? 'none';
appendFileSync('nx-calls.log', '${layer} ${action} ' + cluster + '\\n');
const failWith = Number(process.env.FAKE_EXIT_${layer.toUpperCase()} ?? 0);
if ('${action}' === 'apply' && failWith) { recordExit('${layer}:${action}', failWith); process.exit(failWith); }
if ('${action}' === 'apply' && cluster === '*') { console.error('apply needs one cluster'); process.exit(2); }
if ('${action}' === 'generate') {
  const names = cluster === '*' ? readdirSync('clusters') : cluster.split(',');
  for (const name of names) {
    mkdirSync('clusters/' + name + '/rendered/${layer}', { recursive: true });
    writeFileSync('clusters/' + name + '/rendered/${layer}/out.txt', '${layer} for ' + name + '\\n');
  }
}
`;
}

export interface NxResult {
  status: number;
  output: string;
}

export interface Scratch {
  root: string;
  nx: (args: string[], env?: NodeJS.ProcessEnv) => NxResult;
  /** A workspace script run with tsx in the scratch root (e.g. packages/cluster/src/cli.ts). */
  script: (path: string, args: string[], env?: NodeJS.ProcessEnv) => NxResult;
  git: (...args: string[]) => string;
  calls: () => string[];
  write: (path: string, text: string) => void;
  exists: (path: string) => boolean;
  read: (path: string) => string;
}

export function createScratch(clusters: Record<string, string>, fakeLayers: Record<string, string[]>): Scratch {
  const root = mkdtempSync(join(tmpdir(), 'gw-nx-'));
  for (const path of COPIED) {
    cpSync(join(repoRoot, path), join(root, path), {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|rendered|\.nx)([/\\]|$)/.test(source.slice(repoRoot.length)),
    });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  for (const [name, text] of Object.entries(clusters)) {
    mkdirSync(join(root, 'clusters', name), { recursive: true });
    writeFileSync(join(root, 'clusters', name, 'cluster.yaml'), text);
  }
  for (const [layer, deps] of Object.entries(fakeLayers)) {
    const dir = join(root, 'packages', layer);
    mkdirSync(join(dir, 'src'), { recursive: true });
    const dependencies = Object.fromEntries(deps.map((d) => [d.startsWith('@') ? d : `@groundwork/${d}`, '*']));
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `@groundwork/${layer}`, private: true, type: 'module', nx: { name: layer }, groundwork: { layer: true }, dependencies }, null, 2)}\n`);
    for (const action of ['generate', 'verify', 'apply']) writeFileSync(join(dir, 'src', `${action}.ts`), fakeScript(layer, action));
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_') && key !== 'GROUNDWORK_ROOT'));
  const nodeBin = join(repoRoot, 'node_modules', '.bin');
  const baseEnv = { ...env, PATH: `${nodeBin}:${env.PATH}`, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: undefined, FORCE_COLOR: '0' };
  const git = (...args: string[]) => {
    const result = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: root, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  git('init', '-q', '-b', 'main');
  return {
    root,
    git,
    nx: (args, extra = {}) => {
      const result = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args, '--output-style=static'], {
        cwd: root,
        env: { ...baseEnv, ...extra } as NodeJS.ProcessEnv,
        encoding: 'utf8',
        timeout: 180_000,
      });
      return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
    },
    script: (path, args, extra = {}) => {
      const result = spawnSync(join(nodeBin, 'tsx'), [path, ...args], { cwd: root, env: { ...baseEnv, ...extra } as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 180_000 });
      return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
    },
    calls: () => (existsSync(join(root, 'nx-calls.log')) ? readFileSync(join(root, 'nx-calls.log'), 'utf8').split('\n').filter(Boolean) : []),
    write: (path, text) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    },
    exists: (path) => existsSync(join(root, path)),
    read: (path) => readFileSync(join(root, path), 'utf8'),
  };
}

import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadCluster, type LoadedCluster } from '@groundwork/cluster';
import { allObjects, readRenderedLayer, type KubeObject } from '@groundwork/kube';
import { scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';

/**
 * An example cluster in a scratch copy of the workspace, driven by the layers' own scripts, each in a process
 * of its own as Nx runs them: rekeyed (apply refuses an example key), rendered by every layer, applied.
 */

const repo = join(import.meta.dirname, '..', '..', '..');
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

/** The layers in dependency order (docs/workspace.md). talos-config applies to machines, not Kubernetes. */
export const LAYERS = ['secrets-sops', 'talos-config', 'platform-core', 'observability', 'n8n', 'apps', 'dr'] as const;
export const KUBERNETES_LAYERS = LAYERS.filter((l) => l !== 'talos-config');

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ExampleWorkspace {
  ws: ScratchWorkspace;
  cluster: LoadedCluster;
  env: NodeJS.ProcessEnv;
  /** Runs packages/<layer>/src/<script>.ts with the workspace as GROUNDWORK_ROOT. */
  script(layer: string, script: string, args?: string[], extra?: NodeJS.ProcessEnv): Promise<ScriptRun>;
  /** A layer's rendered objects (Secrets stay encrypted files and are not among them). */
  rendered(layer: string): KubeObject[];
}

export async function exampleWorkspace(name: string): Promise<ExampleWorkspace> {
  const ws = scratchWorkspace({});
  cpSync(join(repo, 'clusters', name), join(ws.root, 'clusters', name), { recursive: true, filter: (src) => !src.includes('/rendered') });
  cpSync(join(repo, '.sops.yaml'), join(ws.root, '.sops.yaml'));
  // The layers' own declarations (which Secrets each applies) are found under packages/, as in the repository.
  symlinkSync(join(repo, 'packages'), join(ws.root, 'packages'));
  const env: NodeJS.ProcessEnv = { ...process.env, GROUNDWORK_ROOT: ws.root, HOME: scratchDir('gw-home-'), GROUNDWORK_POLL_MS: '500', NX_DAEMON: 'false' };
  delete env.SOPS_AGE_KEY_FILE;
  delete env.SOPS_AGE_KEY;
  const script = (layer: string, file: string, args: string[] = [`--cluster=${name}`], extra: NodeJS.ProcessEnv = {}) =>
    new Promise<ScriptRun>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, [tsx, join(repo, 'packages', layer, 'src', `${file}.ts`), ...args], { cwd: ws.root, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - started }));
    });
  return {
    ws,
    get cluster() {
      return loadCluster(ws.root, name);
    },
    env,
    script,
    rendered: (layer) => {
      const out = readRenderedLayer(ws.root, name, layer);
      return out ? allObjects(out) : [];
    },
  };
}

/** The YAML files a layer rendered (its encrypted Secrets excluded), for kubectl. */
export function renderedFiles(root: string, cluster: string, layer: string): string[] {
  const dir = join(root, 'clusters', cluster, 'rendered', layer);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'index.yaml')
    .map((f) => join(dir, f));
}

/** Every YAML file under the cluster's rendered folder, whatever layer wrote it. */
export function allRenderedYaml(root: string, cluster: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.yaml') ? [join(dir, entry.name)] : []));
  const dir = join(root, 'clusters', cluster, 'rendered');
  return existsSync(dir) ? walk(dir).sort() : [];
}

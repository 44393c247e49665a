#!/usr/bin/env -S npx node
/**
 * npm run bench: the render-loop figures an operator feels, as medians of several runs, on a scratch copy of this
 * workspace (so the repository's own caches and rendered folders are left alone). Nx runs without its daemon, as
 * in CI. Goals (docs/performance.md): a cold render of the six layers for one cluster <= 3 s, a cached no-op of
 * generate + verify <= 1 s, gw-cluster validate <= 0.3 s, and with 20 clusters an edit to one re-renders that
 * cluster only, while rendering N clusters costs about N times one.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, formatDuration, runCommand } from '@groundwork/kit';

const repo = join(import.meta.dirname, '..', '..', '..');
const log = createLogger('bench');

const spec = {
  usage: 'npm run bench [-- --runs=N --clusters=N]',
  summary: 'Measure render speed: cold and cached Nx runs, gw-cluster validate, and a many-cluster workspace.',
  options: {
    runs: { type: 'string', valueName: 'N', description: 'Runs per figure; the median is shown (default 5).' },
    clusters: { type: 'string', valueName: 'N', description: 'Clusters in the many-cluster workspace (default 20).' },
  },
} as const;

const COPIED = ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.gitignore', '.env', '.sops.yaml', 'packages', 'tools/layer-plugin', 'tools/test', 'tools/scripts'];

function scratch(clusters: string[], copies: number): string {
  const root = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  for (const path of COPIED) cpSync(join(repo, path), join(root, path), { recursive: true, filter: (src) => !/[/\\](node_modules|rendered|\.nx)([/\\]|$)/.test(src.slice(repo.length)) });
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  for (const name of clusters) cpSync(join(repo, 'clusters', name), join(root, 'clusters', name), { recursive: true, filter: (src) => !src.includes('/rendered') });
  // Copies of pi-fleet under other names: the same files, each cluster its own.
  for (let i = 1; i <= copies; i++) {
    const name = `copy-${String(i).padStart(2, '0')}`;
    cpSync(join(repo, 'clusters', 'pi-fleet'), join(root, 'clusters', name), { recursive: true, filter: (src) => !src.includes('/rendered') });
    const file = join(root, 'clusters', name, 'cluster.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: pi-fleet$/m, `name: ${name}`));
  }
  if (copies) run(root, ['node', join(root, 'packages/secrets-sops/src/secrets-cli.ts'), 'sync-config']);
  return root;
}

const ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0', PATH: `${join(repo, 'node_modules', '.bin')}:${process.env.PATH}` };

function run(cwd: string, argv: string[], env: NodeJS.ProcessEnv = {}): { ms: number; output: string } {
  const started = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { cwd, env: { ...ENV, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}:\n${(result.stdout + result.stderr).slice(-2000)}`);
  return { ms, output: result.stdout + result.stderr };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const nx = () => [join(repo, 'node_modules', '.bin', 'node'), join(repo, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')];

function measure(label: string, runs: number, once: () => number): number {
  const values = Array.from({ length: runs }, once);
  const value = median(values);
  log.info(`${label}: ${formatDuration(value)} (median of ${runs}: ${values.map((v) => formatDuration(v)).join(', ')})`);
  return value;
}

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, async ({ options }) => {
    const runs = Number(options.runs ?? 5);
    const copies = Number(options.clusters ?? 20);
    const figures: Array<[string, string, string]> = [];
    const root = scratch(['pi-fleet', 'proxmox-ha', 'metal-ha', 'docker-dev'], 0);
    try {
      const generate = [...nx(), 'run-many', '-t', 'generate', '--cluster=pi-fleet', '--skip-nx-cache'];
      run(root, generate, { GROUNDWORK_RENDER_ALL: '1' }); // Node's compile cache and Nx's graph, as after any first run
      const cold = measure('cold generate, six layers, pi-fleet (no Nx cache, every cluster rendered)', runs, () => run(root, generate, { GROUNDWORK_RENDER_ALL: '1' }).ms);
      figures.push(['cold generate of the six layers, one cluster', formatDuration(cold), '<= 3 s']);
      const cached = [...nx(), 'run-many', '-t', 'generate', 'verify', '--cluster=pi-fleet'];
      run(root, cached);
      const noop = measure('cached no-op: run-many -t generate verify --cluster=pi-fleet', runs, () => run(root, cached).ms);
      figures.push(['cached no-op generate + verify, no daemon', formatDuration(noop), '<= 1 s']);
      const validate = measure('gw-cluster validate --cluster=pi-fleet', runs, () => run(root, [join(repo, 'node_modules', '.bin', 'gw-cluster'), 'validate', '--cluster=pi-fleet']).ms);
      figures.push(['gw-cluster validate, one cluster', formatDuration(validate), '<= 0.3 s']);
      const viaNpx = measure('npx gw-cluster validate --cluster=pi-fleet (npm\'s own start included)', runs, () => run(root, ['npx', 'gw-cluster', 'validate', '--cluster=pi-fleet']).ms);
      figures.push(['the same through npx', formatDuration(viaNpx), '(npx adds its own start)']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }

    const many = scratch([], copies);
    try {
      const one = [...nx(), 'run-many', '-t', 'generate', '--cluster=copy-01', '--skip-nx-cache'];
      run(many, one, { GROUNDWORK_RENDER_ALL: '1' });
      const oneMs = measure(`one of ${copies} clusters, cold`, Math.min(runs, 3), () => run(many, one, { GROUNDWORK_RENDER_ALL: '1' }).ms);
      const all = [...nx(), 'run-many', '-t', 'generate', '--skip-nx-cache'];
      const allMs = measure(`all ${copies} clusters, cold`, Math.min(runs, 3), () => run(many, all, { GROUNDWORK_RENDER_ALL: '1' }).ms);
      figures.push([`${copies} clusters cold / one cluster cold`, `${formatDuration(allMs)} / ${formatDuration(oneMs)} = ${(allMs / oneMs).toFixed(1)}×`, `about ${copies}× or less`]);
      const generateAll = [...nx(), 'run-many', '-t', 'generate', '--output-style=static'];
      run(many, generateAll);
      let rerendered = 0;
      const edit = measure(`edit copy-07's cluster.yaml, then run-many -t generate (all ${copies})`, Math.min(runs, 3), () => {
        appendFileSync(join(many, 'clusters', 'copy-07', 'cluster.yaml'), `# edited ${performance.now()}\n`);
        const result = run(many, generateAll);
        const lines = result.output.split('\n').filter((l) => /✓ \[[a-z-]+:generate\] [\w-]+: /.test(l));
        rerendered = new Set(lines.filter((l) => !l.includes('; kept:')).map((l) => /\] ([\w-]+): /.exec(l)![1])).size;
        return result.ms;
      });
      figures.push([`after editing one of ${copies} clusters: clusters rendered again`, `${rerendered} (in ${formatDuration(edit)})`, '1']);
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
    const width = Math.max(...figures.map(([f]) => f.length));
    process.stdout.write(`\n${'figure'.padEnd(width)}  ${'measured'.padEnd(28)} goal\n${figures.map(([f, m, g]) => `${f.padEnd(width)}  ${m.padEnd(28)} ${g}`).join('\n')}\n`);
    return 0;
  }, argv);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

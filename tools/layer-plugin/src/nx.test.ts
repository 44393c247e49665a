import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { beforeAll, describe, expect, it } from 'vitest';
import { createScratch, repoRoot, type Scratch } from './scratch.ts';

async function clusterFile(name: string, subnet: number): Promise<string> {
  const recipient = await identityToRecipient(await generateX25519Identity());
  return [
    'apiVersion: groundwork.dev/v1alpha1',
    'kind: Cluster',
    `name: ${name}`,
    'domain: test.home.arpa',
    'versions: { talos: v1.13.9, kubernetes: 1.36.3 }',
    `network: { nodeCidr: 10.${subnet}.0.0/24, gateway: 10.${subnet}.0.1 }`,
    `nodes: [{ name: cp-1, ip: 10.${subnet}.0.2, role: controlplane, platform: docker }]`,
    `sops: { age: [${recipient}] }`,
    '',
  ].join('\n');
}

/** `> nx run project:target` lines, in the order nx ran them. */
function ran(output: string): string[] {
  return [...output.matchAll(/^> nx run ([\w-]+:\w+)/gm)].map((m) => m[1]!);
}

function before(list: string[], a: string, b: string): boolean {
  return list.indexOf(a) !== -1 && list.indexOf(b) !== -1 && list.indexOf(a) < list.indexOf(b);
}

describe('layer targets under real Nx', () => {
  let ws: Scratch;

  beforeAll(async () => {
    ws = createScratch({ east: await clusterFile('east', 1), west: await clusterFile('west', 2) }, { alpha: ['secrets-sops'], beta: ['alpha'] });
    const synced = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['packages/secrets-sops/src/secrets-cli.ts', 'sync-config'], { cwd: ws.root, encoding: 'utf8' });
    expect(synced.status, synced.stderr).toBe(0);
    ws.git('add', '-A');
    ws.git('commit', '-qm', 'baseline');
  });

  it('infers generate, verify and apply for layers and typecheck for every package', () => {
    const result = ws.nx(['show', 'project', 'beta', '--json']);
    expect(result.status, result.output).toBe(0);
    const project = JSON.parse(result.output.slice(result.output.indexOf('{'), result.output.lastIndexOf('}') + 1)) as { targets: Record<string, { cache?: boolean }> };
    expect(Object.keys(project.targets).sort()).toEqual(['apply', 'generate', 'verify']);
    expect(project.targets.apply!.cache).toBe(false);
    const kit = ws.nx(['show', 'project', 'kit', '--json']);
    expect(kit.output).toContain('"typecheck"');
    expect(kit.output).not.toContain('"generate"');
  });

  it('renders one layer alone, and verify forwards --cluster to the generate and verify of every layer it depends on, in dependency order', () => {
    const alone = ws.nx(['run', 'beta:generate', '--cluster=east']);
    expect(alone.status, alone.output).toBe(0);
    expect(ws.calls()).toEqual(['beta generate east']);
    const result = ws.nx(['run', 'beta:verify', '--cluster=east']);
    expect(result.status, result.output).toBe(0);
    expect(ws.calls().filter((c) => c.endsWith(' east')).sort()).toEqual(['alpha generate east', 'alpha verify east', 'beta generate east', 'beta verify east']);
    const order = ran(result.output);
    expect(before(order, 'secrets-sops:generate', 'secrets-sops:verify')).toBe(true);
    expect(before(order, 'secrets-sops:verify', 'alpha:verify')).toBe(true);
    expect(before(order, 'alpha:verify', 'beta:verify')).toBe(true);
    expect(ws.exists('clusters/east/rendered/secrets-sops/index.yaml')).toBe(true);
    expect(ws.exists('clusters/west/rendered/beta/out.txt')).toBe(false);
  });

  it('renders every cluster when --cluster is not given', () => {
    const result = ws.nx(['run-many', '-t', 'generate']);
    expect(result.status, result.output).toBe(0);
    expect(ws.calls().slice(-2).sort()).toEqual(['alpha generate *', 'beta generate *']);
    for (const cluster of ['east', 'west']) for (const layer of ['secrets-sops', 'alpha', 'beta']) expect(ws.exists(`clusters/${cluster}/rendered/${layer}`), `${cluster}/${layer}`).toBe(true);
  });

  it('caches generate and static verify, and restores deleted rendered folders from the cache', () => {
    const first = ws.nx(['run-many', '-t', 'generate', 'verify']);
    expect(first.status, first.output).toBe(0);
    const callsBefore = ws.calls().length;
    const second = ws.nx(['run-many', '-t', 'generate', 'verify']);
    expect(second.status, second.output).toBe(0);
    expect(second.output).toMatch(/Nx read the output from the cache instead of running the command for 6 out of 6 tasks/);
    expect(ws.calls().length).toBe(callsBefore);
    for (const cluster of ['east', 'west']) rmSync(join(ws.root, 'clusters', cluster, 'rendered'), { recursive: true });
    const restored = ws.nx(['run-many', '-t', 'generate']);
    expect(restored.status, restored.output).toBe(0);
    expect(ws.calls().length).toBe(callsBefore);
    expect(ws.read('clusters/west/rendered/beta/out.txt')).toBe('beta for west\n');
    expect(ws.exists('clusters/east/rendered/secrets-sops/index.yaml')).toBe(true);
  });

  it('never answers a live verify (GROUNDWORK_LIVE set) from the cache', () => {
    ws.nx(['run', 'beta:verify', '--cluster=east']);
    const before = ws.calls().filter((c) => c === 'beta verify east').length;
    ws.nx(['run', 'beta:verify', '--cluster=east']);
    expect(ws.calls().filter((c) => c === 'beta verify east').length).toBe(before);
    ws.nx(['run', 'beta:verify', '--cluster=east'], { GROUNDWORK_LIVE: '1' });
    ws.nx(['run', 'beta:verify', '--cluster=east'], { GROUNDWORK_LIVE: '1' });
    expect(ws.calls().filter((c) => c === 'beta verify east').length).toBe(before + 2);
  });

  it('puts --cluster in the cache key', () => {
    ws.nx(['run', 'beta:generate', '--cluster=west']);
    const callsBefore = ws.calls().length;
    const again = ws.nx(['run', 'beta:generate', '--cluster=west']);
    expect(ws.calls().length).toBe(callsBefore);
    const other = ws.nx(['run', 'beta:generate', '--cluster=east']);
    expect(again.status + other.status).toBe(0);
    expect(ws.nx(['run', 'beta:generate', '--cluster=east,west']).output).not.toContain('[local cache]\n> nx run beta');
    expect(ws.calls().at(-1)).toBe('beta generate east,west');
  });

  it('runs apply after its own verify and after the apply of the layers it depends on, and never from cache', () => {
    const first = ws.nx(['run', 'beta:apply', '--cluster=east']);
    expect(first.status, first.output).toBe(0);
    const order = ran(first.output);
    expect(before(order, 'secrets-sops:apply', 'alpha:apply')).toBe(true);
    expect(before(order, 'alpha:apply', 'beta:apply')).toBe(true);
    expect(before(order, 'beta:verify', 'beta:apply')).toBe(true);
    expect(before(order, 'alpha:verify', 'alpha:apply')).toBe(true);
    const applies = () => ws.calls().filter((c) => c.includes(' apply ')).length;
    const count = applies();
    expect(ws.nx(['run', 'beta:apply', '--cluster=east']).status).toBe(0);
    expect(applies()).toBe(count + 2);
    const all = ws.nx(['run', 'beta:apply']);
    expect(all.status).not.toBe(0);
    expect(all.output).toContain('apply changes a live cluster: name exactly one with --cluster=<name>');
  });

  it('gw-cluster run exits with the failing layer\'s own code where nx folds it into 130, and names what did not run', () => {
    // Nx's own exit code: a failed apply leaves its dependent unrun, and Nx reports that as an interruption.
    const viaNx = ws.nx(['run-many', '-t', 'apply', '--cluster=east'], { FAKE_EXIT_ALPHA: '5' });
    expect(viaNx.status).toBe(130);
    const seen = ws.calls().length;
    const run = ws.script('packages/cluster/src/cli.ts', ['run', 'apply', '--cluster=east'], { FAKE_EXIT_ALPHA: '5' });
    expect(run.status, run.output).toBe(5);
    expect(run.output).toContain('error: apply of east: failed: alpha:apply (exit 5); the tasks that depend on them did not run');
    expect(ws.calls().slice(seen)).toContain('alpha apply east');
    expect(ws.calls().slice(seen)).not.toContain('beta apply east');
    const ok = ws.script('packages/cluster/src/cli.ts', ['run', 'apply', '--cluster=east']);
    expect(ok.status, ok.output).toBe(0);
    expect(ok.output).toContain('✓ apply of east:');
  });

  it('marks the tasks that read a changed cluster file, and only a layer and its dependents for a layer change', () => {
    ws.write('clusters/west/cluster.yaml', `${ws.read('clusters/west/cluster.yaml')}description: changed\n`);
    ws.git('commit', '-qam', 'cluster change');
    // Project level: the layers, plus this plugin's own tests, which run secrets-sops (a declared dependency).
    const clusterChange = ws.nx(['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD']);
    expect(clusterChange.output.split('\n').filter(Boolean).sort()).toEqual(['alpha', 'beta', 'layer-plugin', 'secrets-sops']);
    // Task level: exactly the tasks whose inputs include the cluster folders.
    const generateTasks = ws.nx(['affected', '-t', 'generate', 'typecheck', '--base=HEAD~1', '--head=HEAD', '--explain'], { NX_LEGACY_AFFECTED: 'false' });
    expect(generateTasks.output).toMatch(/3 out of 7 generate and typecheck tasks are affected/);
    expect(generateTasks.output).toMatch(/Changing 1 file touches 3 generate tasks/);
    ws.write('packages/alpha/src/generate.ts', `${ws.read('packages/alpha/src/generate.ts')}// changed\n`);
    ws.git('commit', '-qam', 'layer change');
    const layerChange = ws.nx(['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD']);
    expect(layerChange.output.split('\n').filter(Boolean).sort()).toEqual(['alpha', 'beta']);
    const tasks = ws.nx(['affected', '-t', 'apply', '--base=HEAD~2', '--head=HEAD~1', '--explain'], { NX_LEGACY_AFFECTED: 'false' });
    expect(tasks.output).toMatch(/3 out of 3 apply tasks are affected/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '@groundwork/cluster';
import { main as talos } from '@groundwork/talos-config/talos-cli';
import { main as generate } from '@groundwork/talos-config/generate';
import { main as apply } from '@groundwork/talos-config/apply';
import { main as verify } from '@groundwork/talos-config/verify';
import { startLab, type Lab } from '@groundwork/talos-config/test/lab';
import { main as rebuild } from '../rebuild-cli.ts';
import type { Step, StepRunner } from './rebuild.ts';

/**
 * The rebuild cycle on a lab of one control plane and one worker: Talos API stand-ins, and a real Kubernetes
 * control plane that machined's stand-in starts when etcd is bootstrapped and stops when every control plane
 * is wiped. The lab has one layer, talos-config, so "every layer through Nx" runs that layer's own scripts in
 * this process; gw-talos runs as the real command in this process too.
 */
describe('gw-rebuild: destroy, recreate from the repository, verify', () => {
  let lab: Lab;
  const layer: Record<string, (argv: string[]) => Promise<number>> = { generate, apply, verify };
  /** The lab's commands, in this process: the environment is already the lab's (gw-rebuild runs inside lab.run). */
  const runner = (): StepRunner => async (step: Step) => {
    if (step.tool === 'gw-talos') return talos(step.args);
    if (step.tool === 'gw-dr') throw new Error('dr is off in the lab');
    const saved = { ...process.env };
    Object.assign(process.env, step.env ?? {});
    try {
      return await layer[step.target]!(['--cluster=lab']);
    } finally {
      for (const key of Object.keys(step.env ?? {})) if (!(key in saved)) delete process.env[key];
    }
  };
  const run = (argv: string[]) => lab.run(['--cluster=lab', ...argv], {}, (a) => rebuild(a, runner));

  beforeAll(async () => {
    lab = await startLab({ controlPlanes: 1, workers: 1 });
  }, 240_000);
  // Stopping etcd, the API server, the controllers and kwok gracefully can take a while on a busy machine.
  afterAll(async () => {
    await lab?.stop();
  }, 180_000);

  it('asks for --yes, and a dry run prints every phase with its command, changing nothing', async () => {
    const unconfirmed = await run([]);
    expect(unconfirmed.code).toBe(EXIT_CODES.usage);
    expect(unconfirmed.stderr).toContain('gw-rebuild wipes every node of lab: add --yes to confirm, or --dry-run to see the plan');
    const dry = await run(['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = dry.stderr.split('\n').filter((l) => l.includes('plan: '));
    expect(planned.map((l) => /plan: (\w+):/.exec(l)?.[1])).toEqual(['destroy', 'render', 'nodes', 'join', 'platform', 'verify']);
    for (const line of planned) expect(line).toContain('[gw-rebuild, dry run]');
    expect(dry.stderr).toContain('plan: destroy: wipe every node back to maintenance mode (workers first): gw-talos reset --all --yes --cluster=lab');
    expect(dry.stderr).toContain('restore: skipped (dr is off for this cluster)');
    expect(dry.stderr).toMatch(/^ {2}total +not run$/m);
    expect(lab.state.journal ?? []).toEqual([]);
  });

  it('wipes the nodes, brings up a new cluster from the same repository and verifies it, timing each phase', async () => {
    const before = await lab.kubernetes.started();
    await before.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-the-old-cluster', namespace: 'default' }, data: { a: 'b' } });
    const rebuilt = await run(['--yes']);
    expect(rebuilt.code, `${rebuilt.stderr}\n${lab.kubernetes.failure?.message ?? ''}`).toBe(0);
    // Workers were wiped before the control plane, each back in maintenance mode, then installed again.
    expect(lab.state.journal).toEqual(['w-1 reset reboot', 'cp-1 reset reboot']);
    for (const node of lab.nodes) expect(node.config).toBe(lab.ws.read(`clusters/lab/rendered/talos-config/nodes/${node.spec.name}.yaml`));
    // A new etcd and control plane: the old cluster's objects are gone, the nodes registered again.
    const after = await lab.kubernetes.started();
    expect(after).not.toBe(before);
    expect(await after.client.get('v1', 'ConfigMap', 'from-the-old-cluster', 'default')).toBeUndefined();
    expect((await after.client.list('v1', 'Node')).map((n) => n.metadata.name).sort()).toEqual(['cp-1', 'w-1']);
    const table = rebuilt.stderr.slice(rebuilt.stderr.lastIndexOf('  destroy'));
    for (const phase of ['destroy', 'render', 'nodes', 'join', 'platform', 'verify']) expect(table).toMatch(new RegExp(`^  ${phase} +done +\\d`, 'm'));
    expect(table).toMatch(/^ {2}restore +skipped$/m);
    expect(table).toMatch(/^ {2}total +done +\d/m);
    expect(rebuilt.stderr).toContain('lab: 2 configs match the bundle, PKI checks pass, live cluster healthy');
  }, 240_000);

  it('stops at the first phase that fails, with its exit code, and runs nothing after it', async () => {
    await lab.node('w-1').stop();
    const failed = await run(['--yes']);
    expect(failed.code).toBe(EXIT_CODES.unreachable);
    expect(failed.stderr).toMatch(/^ {2}destroy +failed +\d/m);
    for (const phase of ['render', 'nodes', 'join', 'platform', 'verify']) expect(failed.stderr).toMatch(new RegExp(`^  ${phase} +not run$`, 'm'));
    expect(lab.node('cp-1').calls.filter((c) => c.startsWith('reset'))).toEqual(['reset reboot']);
  }, 60_000);
});

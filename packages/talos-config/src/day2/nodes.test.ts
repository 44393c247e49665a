import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '@groundwork/cluster';
import { startLab, type Lab } from '../../test/lab.ts';
import { main as apply } from '../apply.ts';

/**
 * Node lifecycle on a lab of three control planes and a worker (Talos API stand-ins, a real Kubernetes control
 * plane): remove a healthy control plane, refuse what would cost etcd its quorum, forget a failed one, and
 * bring a wiped machine back with apply and join.
 */

describe('gw-talos node remove, forget and join', () => {
  let lab: Lab;
  const members = () => [...lab.state.etcdMembers].sort();
  /** The cluster file with only these nodes, as a user edits it after removing one, and rendered again. */
  const keepNodes = (names: string[]) => lab.reconfigure({}, names);
  const nodeExists = async (name: string) => !!(await (await lab.kubernetes.started()).client.get('v1', 'Node', name));

  beforeAll(async () => {
    lab = await startLab({ controlPlanes: 3, workers: 1 });
  }, 240_000);
  // Stopping etcd, the API server, the controllers and kwok gracefully can take a while on a busy machine.
  afterAll(async () => {
    await lab?.stop();
  }, 180_000);

  it('names a node the cluster file does not have (exit 2) and a dry run changes nothing', async () => {
    const unknown = await lab.run(['node', 'remove', 'cp-9', '--cluster=lab']);
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.stderr).toContain('clusters/lab/cluster.yaml: nodes has no node named cp-9');
    const dry = await lab.run(['node', 'remove', 'cp-3', '--cluster=lab', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('· [gw-talos node remove, dry run] plan: drain cp-3, have it leave etcd, reset it (wiped, powered off), delete its Node');
    expect(members()).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(lab.state.journal ?? []).toEqual([]);
  });

  it('a failed control plane is not removed but forgotten: its member removed through a healthy one; a live node is not forgotten', async () => {
    await lab.node('cp-3').stop();
    const silent = await lab.run(['node', 'remove', 'cp-3', '--cluster=lab']);
    expect(silent.code).toBe(EXIT_CODES.unreachable);
    expect(silent.stderr).toContain('if it has failed, use: gw-talos node forget cp-3');
    const alive = await lab.run(['node', 'forget', 'cp-2', '--cluster=lab']);
    expect(alive.code).toBe(EXIT_CODES.refused);
    expect(alive.stderr).toContain('cp-2 (10.9.0.12) answers: it has not failed. Remove it with gw-talos node remove cp-2');
    const forgotten = await lab.run(['node', 'forget', 'cp-3', '--cluster=lab']);
    expect(forgotten.code, forgotten.stderr).toBe(0);
    expect(forgotten.stderr).toMatch(/cp-3: etcd member 0000000000000003 removed/);
    expect(lab.node('cp-1').calls).toEqual(['etcd remove-member cp-3']);
    expect(members()).toEqual(['cp-1', 'cp-2']);
    expect(await nodeExists('cp-3')).toBe(false);
    await keepNodes(['cp-1', 'cp-2', 'w-1']);
  }, 60_000);

  it('refuses to remove one of two control planes (etcd would lose its quorum): exit 6, nothing changed', async () => {
    const refused = await lab.run(['node', 'remove', 'cp-2', '--cluster=lab']);
    expect(refused.code).toBe(EXIT_CODES.refused);
    expect(refused.stderr).toMatch(/2 of 2 etcd members are healthy: with one more down the remaining 1 are below the quorum of 2; add a control plane before removing cp-2/);
    expect(lab.node('cp-2').calls).toEqual([]);
  }, 60_000);

  it('a replacement machine in maintenance mode takes the failed one\'s place with apply, and join waits until it is Ready and a member', async () => {
    // A new machine for cp-3: booted without config, in maintenance mode at its address; listed in the cluster file again.
    const replacement = lab.node('cp-3');
    replacement.mode = 'maintenance';
    replacement.config = undefined;
    await replacement.start(replacement.port);
    await keepNodes(['cp-1', 'cp-2', 'cp-3', 'w-1']);
    const reapplied = await lab.run(['--cluster=lab'], {}, apply);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    expect(reapplied.stderr).toContain('cp-3: installed');
    const joined = await lab.run(['node', 'join', 'cp-3', '--cluster=lab']);
    expect(joined.code, joined.stderr).toBe(0);
    expect(members()).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(await nodeExists('cp-3')).toBe(true);
  }, 120_000);

  it('removes a healthy control plane: drained, out of etcd, reset, its Node deleted', async () => {
    const removed = await lab.run(['node', 'remove', 'cp-3', '--cluster=lab']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(lab.node('cp-3').calls).toEqual(['etcd leave', 'reset']);
    expect(members()).toEqual(['cp-1', 'cp-2']);
    expect(await nodeExists('cp-3')).toBe(false);
    expect(removed.stderr).toContain('cp-3 removed: delete its entry from nodes: in clusters/lab/cluster.yaml');
  }, 120_000);
});

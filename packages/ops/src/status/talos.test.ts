import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { loadTalosSecrets, type TalosSecrets } from '@groundwork/talos-config';
import { FakeTalosNode, memberId, sharedState, type SharedState } from '@groundwork/talos-config/test/fake-talos';
import { askTalos } from './talos.ts';

/**
 * The Talos side of the status against proxmox-ha's three control planes and two workers, each a Talos API
 * stand-in speaking the real protocol (gRPC, mutual TLS with the cluster's own CAs and admin talosconfig):
 * versions from every node, etcd's members and leader from the control planes, and the faults that matter:
 * a node that does not answer, a control plane outside etcd, a member reporting errors, a split view of the
 * leader.
 */
const cluster = loadCluster(join(import.meta.dirname, '..', '..', '..', '..'), 'proxmox-ha');

describe('Talos versions and etcd through the Talos API', () => {
  let secrets: TalosSecrets;
  const nodes = new Map<string, FakeTalosNode>();
  let env: NodeJS.ProcessEnv = {};

  /** Starts one stand-in per node; `stateOf` says which etcd view (shared state) each node has. */
  async function startNodes(stateOf: (name: string) => SharedState, version: (name: string) => string = () => 'v1.13.9'): Promise<void> {
    for (const node of nodes.values()) await node.stop();
    nodes.clear();
    if ('problem' in secrets) throw new Error(secrets.problem);
    for (const n of cluster.config.nodes) {
      const fake = new FakeTalosNode({ name: n.name, ip: n.ip, controlPlane: n.role === 'controlplane', talosVersion: version(n.name) }, secrets.bundle, stateOf(n.name), () => '', 'configured');
      await fake.start();
      nodes.set(n.name, fake);
    }
    env = { GROUNDWORK_ADDRESS_MAP: cluster.config.nodes.map((n) => `${n.ip}:50000=127.0.0.1:${nodes.get(n.name)!.port}`).join(',') };
  }

  /** etcd with these members, IDs given in this order (1, 2, …) as etcd hands them out on join. */
  function etcdState(members: string[]): SharedState {
    const state = sharedState();
    state.etcdMembers = [...members];
    for (const name of members) memberId(state, name);
    return state;
  }

  beforeAll(async () => {
    secrets = await loadTalosSecrets(join(import.meta.dirname, '..', '..', '..', '..'), cluster);
  }, 60_000);
  afterAll(async () => {
    for (const node of nodes.values()) await node.stop();
  });

  it('reads every node\'s version and a healthy etcd: three voting members, one leader', async () => {
    const state = etcdState(['pve-cp-1', 'pve-cp-2', 'pve-cp-3']);
    await startNodes(() => state, (name) => (name === 'pve-w-2' ? 'v1.13.8' : 'v1.13.9'));
    const answers = await askTalos(cluster, secrets, env, 3000);
    expect(Object.fromEntries(answers.versions)).toEqual({
      'pve-cp-1': { version: 'v1.13.9' },
      'pve-cp-2': { version: 'v1.13.9' },
      'pve-cp-3': { version: 'v1.13.9' },
      'pve-w-1': { version: 'v1.13.9' },
      'pve-w-2': { version: 'v1.13.8' },
    });
    expect(answers.etcd.problems).toEqual([]);
    expect(answers.etcd.verdict).toBe('healthy');
    expect(answers.etcd.leader).toBe('pve-cp-1');
    expect(answers.etcd.members.map((m) => [m.hostname, m.leader, m.isLearner])).toEqual([['pve-cp-1', true, false], ['pve-cp-2', false, false], ['pve-cp-3', false, false]]);
    expect(answers.etcd.views.map((v) => v.node)).toEqual(['pve-cp-1', 'pve-cp-2', 'pve-cp-3']);
    expect(answers.etcd.views.every((v) => v.dbSizeBytes! > 0 && v.leaderId === answers.etcd.members[0]!.id)).toBe(true);
  });

  it('names a control plane outside etcd, a member\'s errors, and a node that does not answer', async () => {
    const state = etcdState(['pve-cp-1', 'pve-cp-2']);
    state.etcdErrors = { 'pve-cp-2': ['etcdserver: mvcc: database space exceeded'] };
    await startNodes(() => state);
    await nodes.get('pve-w-1')!.stop();
    const started = Date.now();
    const answers = await askTalos(cluster, secrets, { ...env }, 1500);
    // Every node is asked at once: one dead node costs one deadline, not one per call.
    expect(Date.now() - started).toBeLessThan(2 * 1500 + 1000);
    expect(answers.versions.get('pve-w-1')!.error).toMatch(/^version on 10\.0\.10\.21: /);
    expect(answers.versions.get('pve-cp-3')).toEqual({ version: 'v1.13.9' });
    expect(answers.etcd.verdict).toBe('unhealthy');
    expect(answers.etcd.leader).toBe('pve-cp-1');
    expect(answers.etcd.problems).toEqual([
      'pve-cp-2 reports: etcdserver: mvcc: database space exceeded',
      'pve-cp-3 did not answer EtcdStatus: etcdStatus on 10.0.10.13: etcd is not running on this node',
      'pve-cp-3 is not an etcd member',
    ]);
  });

  it('sees control planes that follow different leaders (a partition) as unhealthy', async () => {
    // Two views of one etcd: pve-cp-3 is cut off and believes in a leader of its own.
    const majority = etcdState(['pve-cp-1', 'pve-cp-2', 'pve-cp-3']);
    const cutOff = etcdState(['pve-cp-1', 'pve-cp-2', 'pve-cp-3']);
    cutOff.leader = 'pve-cp-3';
    await startNodes((name) => (name === 'pve-cp-3' ? cutOff : majority));
    const answers = await askTalos(cluster, secrets, env, 3000);
    expect(answers.etcd.verdict).toBe('unhealthy');
    expect(answers.etcd.leader).toBeUndefined();
    expect(answers.etcd.members.some((m) => m.leader)).toBe(false);
    expect(answers.etcd.problems).toEqual(['control planes disagree on the leader: pve-cp-1 follows 1, pve-cp-2 follows 1, pve-cp-3 follows 3']);
  });

  it('without the Talos secrets, asks nobody and says why', async () => {
    const answers = await askTalos(cluster, { problem: 'cannot decrypt: no identity at hand' }, env, 1000);
    expect(answers.etcd).toEqual({ verdict: 'unknown', problems: ['cannot decrypt: no identity at hand'], members: [], views: [] });
    expect([...answers.versions.values()].every((v) => v.error === 'cannot decrypt: no identity at hand')).toBe(true);
  });
});

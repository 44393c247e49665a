import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '@groundwork/cluster';
import { startLab, type Lab } from '../../test/lab.ts';

/**
 * The Talos upgrade on a lab of three control planes and a worker that run v1.13.8 while the cluster file pins
 * v1.13.9: Talos API stand-ins (Talos 1.13's upgrade calls) with a real Kubernetes control plane, whose API
 * server and controller-manager decide the drains (Eviction API, PodDisruptionBudgets).
 */

describe('gw-talos upgrade: one node at a time, control planes first, behind etcd and Kubernetes gates', () => {
  let lab: Lab;
  const order = () => lab.state.journal ?? [];
  const upgradesInOrder = () => order().filter((call) => call.includes(' upgrade ')).map((call) => call.split(' ')[0]);

  beforeAll(async () => {
    lab = await startLab({ controlPlanes: 3, workers: 1, talosVersion: 'v1.13.8' });
  }, 240_000);
  // Stopping etcd, the API server, the controllers and kwok gracefully can take a while on a busy machine.
  afterAll(async () => {
    await lab?.stop();
  }, 180_000);

  it('prints the plan on a dry run, every line saying so, and changes nothing', async () => {
    const dry = await lab.run(['upgrade', '--cluster=lab', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stderr.trim().split('\n');
    for (const line of lines.filter((l) => l.includes('[gw-talos upgrade'))) expect(line).toContain('dry run');
    expect(dry.stderr).toContain('plan: cp-1 (control plane, v1.13.8): upgrade, Talos v1.13.8 → v1.13.9');
    expect(dry.stderr).toContain('plan: w-1 (worker, v1.13.8): upgrade, Talos v1.13.8 → v1.13.9');
    expect(dry.stderr).toContain('lab: 4 node(s) would be upgraded, 0 up to date');
    expect(order()).toEqual([]);
  });

  it('refuses to take a control plane down while an etcd member reports errors (exit 6), before touching any node', async () => {
    lab.state.etcdErrors = { 'cp-2': ['NOSPACE'] };
    const refused = await lab.run(['upgrade', '--cluster=lab']);
    lab.state.etcdErrors = {};
    expect(refused.code).toBe(EXIT_CODES.refused);
    expect(refused.stderr).toContain('before cp-1: etcd is not healthy: cp-2 reports: NOSPACE');
    expect(order()).toEqual([]);
  });

  it('stops at a failed install with the node untouched, and a second run resumes after the nodes already done', async () => {
    lab.node('cp-2').installerExitCode = 1;
    const failed = await lab.run(['upgrade', '--cluster=lab']);
    expect(failed.code).toBe(EXIT_CODES.problems);
    expect(failed.stderr).toContain('upgrade on 10.9.0.12: the installer exited with 1');
    expect(lab.node('cp-1').spec.talosVersion).toBe('v1.13.9');
    expect(lab.node('cp-2').spec.talosVersion).toBe('v1.13.8');
    // cp-1 led etcd: it handed leadership over before its reboot.
    expect(lab.node('cp-1').calls).toEqual(['upgrade ghcr.io/siderolabs/installer:v1.13.9', 'etcd forfeit-leadership', 'reboot']);
    // apply recorded each node's installer when it installed it; the version each runs decides what is left.
    expect(lab.ws.read('clusters/lab/talos/installed.yaml')).toContain('cp-1: ghcr.io/siderolabs/installer:v1.13.9');

    lab.node('cp-2').installerExitCode = 0;
    const resumed = await lab.run(['upgrade', '--cluster=lab']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('plan: cp-1 (control plane, v1.13.9): at its version and installer');
    expect(resumed.stderr).toContain('lab: 3 node(s) upgraded, 1 already up to date');
    // cp-2 twice: its failed install, then the one that worked.
    expect(upgradesInOrder()).toEqual(['cp-1', 'cp-2', 'cp-2', 'cp-3', 'w-1']);
    // Nobody reboots before the node before it is back: each upgrade follows the previous node's reboot.
    expect(order().filter((c) => / (upgrade|reboot)/.test(c)).map((c) => c.replace(/ ghcr.*$/, ''))).toEqual(['cp-1 upgrade', 'cp-1 reboot', 'cp-2 upgrade', 'cp-2 upgrade', 'cp-2 reboot', 'cp-3 upgrade', 'cp-3 reboot', 'w-1 upgrade', 'w-1 reboot']);
    expect(lab.nodes.map((n) => n.spec.talosVersion)).toEqual(['v1.13.9', 'v1.13.9', 'v1.13.9', 'v1.13.9']);
    // Each control plane was upgraded only after the etcd check, and the worker was drained and uncordoned.
    expect(resumed.stderr).toMatch(/cp-2: etcd healthy, 3 of 3 members healthy; 2 keep the quorum of 2/);
    const worker = await (await lab.kubernetes.started()).client.get('v1', 'Node', 'w-1');
    expect((worker?.spec as { unschedulable?: boolean }).unschedulable ?? false).toBe(false);
    const again = await lab.run(['upgrade', '--cluster=lab']);
    expect(again.stderr).toContain('lab: 0 node(s) upgraded, 4 already up to date');
  }, 180_000);

  it('lifts the cordon a run interrupted between a node\'s reboot and its uncordon, once the node is done and Ready', async () => {
    const plane = await lab.kubernetes.started();
    // What an interrupted run leaves: cp-2 upgraded, still cordoned and marked as cordoned by the upgrade.
    await plane.client.mergePatch('v1', 'Node', 'cp-2', undefined, { metadata: { annotations: { 'groundwork.dev/cordoned-for': 'talos-upgrade' } }, spec: { unschedulable: true } }, 'test');
    const resumed = await lab.run(['upgrade', '--cluster=lab']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resumed: cp-2 finished before the interruption; cordon lifted');
    const node = await plane.client.get('v1', 'Node', 'cp-2');
    expect((node?.spec as { unschedulable?: boolean }).unschedulable ?? false).toBe(false);
    expect(node?.metadata.annotations?.['groundwork.dev/cordoned-for']).toBeUndefined();
  });

  it('changing a node\'s extensions upgrades that node alone to its new installer', async () => {
    const yaml = lab.ws.read('clusters/lab/cluster.yaml').replace('{ name: w-1, ip: 10.9.0.21, role: worker, platform: metal, installDisk: /dev/sda, link: eth0 }', '{ name: w-1, ip: 10.9.0.21, role: worker, platform: metal, installDisk: /dev/sda, link: eth0, extensions: [siderolabs/iscsi-tools] }');
    lab.ws.write('clusters/lab/cluster.yaml', yaml);
    const dry = await lab.run(['upgrade', '--cluster=lab', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/plan: w-1 \(worker, v1\.13\.9\): upgrade, installer ghcr\.io\/siderolabs\/installer:v1\.13\.9 → factory\.talos\.dev\/installer\/[0-9a-f]{64}:v1\.13\.9 \(extensions changed\)/);
    expect(dry.stderr).toContain('lab: 1 node(s) would be upgraded, 3 up to date');
    // The same release before and after: the run waits for the new boot, not just for an answer. w-1 was
    // cordoned by someone before the run: it is drained but stays cordoned afterwards.
    lab.node('w-1').rebootMs = 1500;
    const plane = await lab.kubernetes.started();
    await plane.client.mergePatch('v1', 'Node', 'w-1', undefined, { spec: { unschedulable: true } }, 'someone');
    const upgraded = await lab.run(['upgrade', '--cluster=lab']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stderr).toContain('w-1: already cordoned before this run; it stays cordoned afterwards');
    expect(((await plane.client.get('v1', 'Node', 'w-1'))?.spec as { unschedulable?: boolean }).unschedulable).toBe(true);
    // Its third finished boot: the install from maintenance mode, the v1.13.9 upgrade, and this one.
    expect(lab.node('w-1').reboots).toBe(3);
    expect(lab.node('w-1').calls.at(-1)).toBe('reboot');
    expect(lab.node('w-1').calls.at(-2)).toMatch(/^upgrade factory\.talos\.dev\/installer\/[0-9a-f]{64}:v1\.13\.9$/);
    expect(lab.ws.read('clusters/lab/talos/installed.yaml')).toMatch(/w-1: factory\.talos\.dev\/installer\//);
  }, 60_000);
});

describe('gw-talos upgrade drains within PodDisruptionBudgets', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ controlPlanes: 1, workers: 1, talosVersion: 'v1.13.8' });
  }, 240_000);
  // Stopping etcd, the API server, the controllers and kwok gracefully can take a while on a busy machine.
  afterAll(async () => {
    await lab?.stop();
  }, 180_000);

  it('stops with exit 6 while a budget allows no eviction, the node left cordoned; after the budget allows it, the run completes', async () => {
    const plane = await lab.kubernetes.started();
    const labels = { app: 'guarded' };
    await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'guarded' } });
    await plane.client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'guarded', namespace: 'guarded' },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } } },
    });
    await plane.client.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'guarded', namespace: 'guarded' }, spec: { minAvailable: 1, selector: { matchLabels: labels } } });
    await plane.client.waitFor('the budget to count its healthy pod', async () => {
      const pdb = await plane.client.get('policy/v1', 'PodDisruptionBudget', 'guarded', 'guarded');
      return (pdb?.status as { currentHealthy?: number } | undefined)?.currentHealthy === 1 ? true : undefined;
    }, 60_000);

    const blocked = await lab.run(['upgrade', '--cluster=lab']);
    expect(blocked.code).toBe(EXIT_CODES.refused);
    expect(blocked.stderr).toMatch(/w-1: the drain stopped: guarded\/guarded-[a-z0-9-]+ \(429: Cannot evict pod as it would violate the pod's disruption budget\.\)/);
    expect(lab.node('w-1').calls).toEqual(['upgrade ghcr.io/siderolabs/installer:v1.13.9']);
    expect(lab.node('w-1').spec.talosVersion).toBe('v1.13.8');
    expect(blocked.stderr).toContain('cp-1: etcd has one member: the Kubernetes API is unavailable while it is down');
    const cordoned = await plane.client.get('v1', 'Node', 'w-1');
    expect((cordoned?.spec as { unschedulable?: boolean }).unschedulable).toBe(true);

    await plane.client.delete('policy/v1', 'PodDisruptionBudget', 'guarded', 'guarded');
    const resumed = await lab.run(['upgrade', '--cluster=lab']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/w-1: evicted guarded\/guarded-/);
    expect(lab.node('w-1').spec.talosVersion).toBe('v1.13.9');
    const after = await plane.client.get('v1', 'Node', 'w-1');
    expect((after?.spec as { unschedulable?: boolean }).unschedulable ?? false).toBe(false);
  }, 180_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '@groundwork/cluster';
import { startLab, type Lab } from '../../test/lab.ts';

/**
 * The Kubernetes upgrade from 1.35.4 to 1.36.3 on a real control plane: the lab starts with the real
 * kube-apiserver, controller-manager and scheduler of 1.35.4 (built from tools/go/kubernetes-previous), the
 * cluster file is changed to 1.36.3, and gw-talos upgrade-k8s moves it. The Talos side (applying the configs,
 * restarting a static pod, the kubelet reporting its version) is the stand-in of test/talos-kubernetes.ts.
 */

describe('gw-talos upgrade-k8s: 1.35.4 → 1.36.3 on a real control plane', () => {
  let lab: Lab;
  const version = async () => {
    const plane = await lab.kubernetes.started();
    const response = await plane.client.request('GET', '/version');
    return response.json<{ gitVersion: string }>().gitVersion;
  };

  beforeAll(async () => {
    lab = await startLab({ controlPlanes: 3, workers: 1, kubernetes: '1.35.4' });
    await lab.reconfigure({ kubernetes: '1.36.3' });
  }, 240_000);
  // Stopping etcd, the API server, the controllers and kwok gracefully can take a while on a busy machine.
  afterAll(async () => {
    await lab?.stop();
  }, 180_000);

  it('plans from what the cluster runs and, on a dry run, changes nothing; apply refuses the version jump', async () => {
    expect(await version()).toBe('v1.35.4');
    const applied = await lab.run(['apply', '--cluster=lab']);
    expect(applied.code).toBe(EXIT_CODES.refused);
    expect(applied.stderr).toContain('the cluster runs Kubernetes v1.35.4 and the cluster file pins v1.36.3: apply would restart every node\'s control plane and kubelet at once. Run gw-talos upgrade-k8s --cluster=lab');
    const dry = await lab.run(['upgrade-k8s', '--cluster=lab', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('plan: Kubernetes v1.35.4 → v1.36.3');
    expect(dry.stderr).toContain('plan: cp-2 kube-apiserver: v1.35.4 → v1.36.3');
    expect(dry.stderr).toContain('plan: w-1 kubelet: v1.35.4 → v1.36.3');
    for (const line of dry.stderr.split('\n').filter((l) => l.includes('[gw-talos upgrade-k8s'))) expect(line).toContain('dry run');
    expect(dry.stderr).toContain('lab: Kubernetes v1.35.4 → v1.36.3: 13 step(s) would run');
    expect(lab.kubernetes.restarts).toEqual([]);
  });

  it('moves each control-plane component on every control plane in turn, then the kubelets, and ends on the rendered configs', async () => {
    const upgraded = await lab.run(['upgrade-k8s', '--cluster=lab', '--skip-layers']);
    expect(upgraded.code, `${upgraded.stderr}\n${lab.kubernetes.failure?.message ?? ''}`).toBe(0);
    expect(lab.kubernetes.restarts).toEqual([
      ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].flatMap((component) => ['cp-1', 'cp-2', 'cp-3'].map((node) => `${node} ${component} v1.36.3`)),
      ...['cp-1', 'cp-2', 'cp-3', 'w-1'].map((node) => `${node} kubelet v1.36.3`),
    ]);
    // The real API server and controllers now run 1.36.3, and every node reports the new kubelet.
    expect(await version()).toBe('v1.36.3');
    const plane = await lab.kubernetes.started();
    expect(plane.versions).toEqual({ 'kube-apiserver': 'v1.36.3', 'kube-controller-manager': 'v1.36.3', 'kube-scheduler': 'v1.36.3' });
    const nodes = await plane.client.list('v1', 'Node');
    expect(nodes.map((n) => (n.status as { nodeInfo: { kubeletVersion: string } }).nodeInfo.kubeletVersion)).toEqual(['v1.36.3', 'v1.36.3', 'v1.36.3', 'v1.36.3']);
    // The last step applied each node's rendered config as it is: the normal apply has nothing left to change.
    for (const node of lab.nodes) expect(node.config).toBe(lab.ws.read(`clusters/lab/rendered/talos-config/nodes/${node.spec.name}.yaml`));
    const again = await lab.run(['upgrade-k8s', '--cluster=lab', '--skip-layers']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('lab: Kubernetes v1.36.3: 0 component(s) upgraded');
  }, 300_000);

  it('refuses a downgrade (exit 6) before changing anything', async () => {
    await lab.reconfigure({ kubernetes: '1.35.4' });
    const refused = await lab.run(['upgrade-k8s', '--cluster=lab', '--skip-layers']);
    expect(refused.code).toBe(EXIT_CODES.refused);
    expect(refused.stderr).toContain('v1.35.4 is older than v1.36.3, which the cluster runs: Kubernetes does not downgrade');
    expect(await version()).toBe('v1.36.3');
  }, 60_000);
});

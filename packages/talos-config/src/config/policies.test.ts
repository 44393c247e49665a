import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleCluster } from '@groundwork/testkit';
import { startControlPlane, specFromMachineConfig, type ControlPlane } from '@groundwork/testkit/kube';
import { generateBundle } from '../bundle/bundle.ts';
import { documentsToYaml, renderDocuments } from './render.ts';

/**
 * The Pod Security defaults and the audit policy as the real kube-apiserver applies them, started from a
 * rendered control-plane config the way Talos starts it.
 */

const pod = (name: string, namespace: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec });
const plain = { containers: [{ name: 'c', image: 'registry.example/app:1' }] };
const restrictedOk = {
  securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'c', image: 'registry.example/app:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
};

describe('Pod Security and auditing as the rendered control plane runs them', () => {
  let plane: ControlPlane;

  beforeAll(async () => {
    const cluster = exampleCluster('pi-fleet').config;
    const config = documentsToYaml(renderDocuments({ cluster, bundle: generateBundle(), node: cluster.nodes[0]! }));
    plane = await startControlPlane({ spec: specFromMachineConfig(config, 'pi-cp-1') });
    for (const [name, labels] of [['third-party', {}], ['groundwork-app', { 'pod-security.kubernetes.io/enforce': 'restricted' }]] as const) {
      await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    }
  }, 180_000);
  afterAll(() => plane?.stop());

  it("admits a chart's ordinary pod in a namespace that says nothing (baseline), as Talos does, and refuses a privileged one", async () => {
    await expect(plane.client.create(pod('app', 'third-party', plain))).resolves.toBeDefined();
    await expect(plane.client.create(pod('root', 'third-party', { containers: [{ name: 'c', image: 'x:1', securityContext: { privileged: true } }] }))).rejects.toThrow(/violates PodSecurity \\"baseline:latest\\"/);
  });

  it('holds a namespace groundwork labels restricted to restricted', async () => {
    await expect(plane.client.create(pod('app', 'groundwork-app', plain))).rejects.toThrow(/violates PodSecurity \\"restricted:latest\\"/);
    await expect(plane.client.create(pod('hardened', 'groundwork-app', restrictedOk))).resolves.toBeDefined();
  });

  it('audits every write at Metadata, with no request body, and leaves health probes out', async () => {
    await plane.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'third-party' }, stringData: { token: 'never-in-the-log' } });
    const events = plane.audit();
    const created = events.filter((e) => e.verb === 'create' && e.objectRef?.name === 'token' && e.stage === 'ResponseComplete');
    expect(created).toHaveLength(1);
    expect(created[0]!.level).toBe('Metadata');
    expect(JSON.stringify(events)).not.toContain('never-in-the-log');
    expect(events.filter((e) => e.level !== 'Metadata')).toEqual([]);
    expect(events.filter((e) => /^\/(readyz|livez|healthz)/.test(e.requestURI))).toEqual([]);
  });
});

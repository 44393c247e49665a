import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApi } from '@groundwork/kube';
import { startControlPlane, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { programVersion } from '@groundwork/testkit/programs';
import { removedApiUses } from './removed-apis.ts';

/**
 * The removed-API pre-check against the real API server at the pinned version, with every API it has turned on
 * (runtime-config api/all), so the deprecated versions it announces removals for are served: LeaseCandidate
 * at coordination.k8s.io/v1alpha2 (gone in 1.38) and v1beta1 (gone in 1.39), and the default ServiceCIDR, also
 * served at networking.k8s.io/v1beta1 (gone in 1.37) besides v1. Targets past the next minor are asked
 * directly: the command itself moves one minor at a time.
 */
describe('objects in APIs the target no longer serves, from the API server\'s own warnings', () => {
  let plane: ControlPlane;
  let kube: KubeApi;
  const version = programVersion('kube-apiserver');

  beforeAll(async () => {
    const spec = throwawaySpec(version, 'removed-apis');
    spec.apiServerArgs = { 'runtime-config': 'api/all=true' };
    plane = await startControlPlane({ spec, kwok: false });
    kube = KubeApi.fromKubeconfig(plane.kubeconfig(), 'upgrade-check');
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });

  it('finds nothing to block when no object lives only in removed versions', async () => {
    const next = await removedApiUses(kube, version, 'v1.37.0');
    expect(next.blockers).toEqual([]);
    // The default ServiceCIDR survives at networking.k8s.io/v1: a note, not a blocker.
    expect(next.notes).toContainEqual(expect.stringMatching(/^networking\.k8s\.io servicecidrs: networking\.k8s\.io\/v1beta1 is gone in 1\.37; its 1\+ object\(s\) stay served at networking\.k8s\.io\/v1/));
  }, 60_000);

  it('blocks on objects whose every serving version is gone by the target, and not before', async () => {
    const created = await plane.client.request('POST', '/apis/coordination.k8s.io/v1beta1/namespaces/default/leasecandidates', {
      apiVersion: 'coordination.k8s.io/v1beta1',
      kind: 'LeaseCandidate',
      metadata: { name: 'candidate', namespace: 'default' },
      spec: { leaseName: 'controller', binaryVersion: '1.36.3', emulationVersion: '1.36.0', strategy: 'OldestEmulationVersion', renewTime: new Date().toISOString().replace(/\.\d+Z$/, '.000000Z') },
    });
    expect(created.status, created.body).toBe(201);
    // In 1.38 v1alpha2 goes but v1beta1 still serves it.
    const v138 = await removedApiUses(kube, version, 'v1.38.0');
    expect(v138.blockers.map((b) => b.resource)).not.toContain('coordination.k8s.io leasecandidates');
    expect(v138.notes).toContainEqual(expect.stringContaining('coordination.k8s.io leasecandidates: coordination.k8s.io/v1alpha2 is gone in 1.38'));
    // In 1.39 both are gone: the object would be lost.
    const v139 = await removedApiUses(kube, version, 'v1.39.0');
    const lease = v139.blockers.find((b) => b.resource === 'coordination.k8s.io leasecandidates');
    expect(lease).toMatchObject({ versions: ['coordination.k8s.io/v1beta1', 'coordination.k8s.io/v1alpha2'], objects: 1 });
    expect(lease?.source).toContain('the API server: "coordination.k8s.io/v1beta1 LeaseCandidate is deprecated in v1.36+, unavailable in v1.39+"');
  }, 60_000);
});

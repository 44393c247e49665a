import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programVersion } from '@groundwork/testkit/programs';
import { startControlPlane, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { KubeApi } from './api.ts';
import { podHealth, podProblems, RECENT_RESTART_MS } from './pods.ts';
import type { KubeObject } from '../model/object.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

const web: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'demo' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
};

const pod = (name: string, labels: Record<string, string>, container: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'demo', labels },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'web', image: 'nginx:1.27', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  },
  status: { phase: 'Running', containerStatuses: [{ name: 'web', image: 'nginx:1.27', imageID: '', ready: false, ...container }] },
});

describe('pod health', () => {
  it('tells a crash loop and a recent restart from an old restart', () => {
    const looping = pod('a', {}, { restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } } });
    const recent = pod('b', {}, { restartCount: 1, state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(3 * 60_000) } } });
    const old = pod('c', {}, { restartCount: 1, state: { running: {} }, lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: ago(RECENT_RESTART_MS + 60_000) } } });
    expect(podProblems(looping as KubeObject, NOW)).toEqual(['pod demo/a container web: CrashLoopBackOff (back-off 5m0s restarting failed container)']);
    expect(podProblems(recent as KubeObject, NOW)).toEqual(['pod demo/b container web: restarted 3 min ago (OOMKilled 137, 1 restarts in all)']);
    expect(podProblems(old as KubeObject, NOW)).toEqual([]);
  });

  describe('against a real API server', () => {
    let plane: ControlPlane;
    let api: KubeApi;
    beforeAll(async () => {
      // No nodes and no kwok: the pods stay where this test puts them, as a kubelet would report them.
      plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver')), kwok: false });
      api = KubeApi.fromKubeconfig(plane.kubeconfig(), 'groundwork-demo');
    }, 120_000);
    afterAll(() => plane?.stop());

    it('looks only at the pods a workload selects', async () => {
      await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
      for (const [name, labels, container] of [
        ['web-1', { app: 'web' }, { restartCount: 2, state: { running: {} } }],
        ['web-2', { app: 'web' }, { restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }],
        ['other', { app: 'other' }, { restartCount: 9, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
      ] as const) {
        const { status, ...object } = pod(name, labels, container);
        await plane.client.create(object);
        await plane.client.setStatus('v1', 'Pod', name, 'demo', status, 'kubelet');
      }
      const health = await podHealth(api, [web], NOW);
      expect(health).toEqual({ pods: 2, restarts: 2, problems: ['Deployment demo/web: pod demo/web-2 container web: ImagePullBackOff'] });
    });
  });
});

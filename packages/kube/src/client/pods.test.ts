import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '@groundwork/testkit/kube';
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
  spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'web', ...container }] },
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

  describe('against an API server', () => {
    let fake: FakeKubeApi;
    let api: KubeApi;
    beforeEach(async () => {
      fake = new FakeKubeApi();
      await fake.start();
      api = KubeApi.fromKubeconfig(fake.kubeconfig(), 'groundwork-demo');
    });
    afterEach(() => fake.stop());

    it('looks only at the pods a workload selects', async () => {
      fake.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
      fake.seed(pod('web-1', { app: 'web' }, { restartCount: 2, state: { running: {} } }));
      fake.seed(pod('web-2', { app: 'web' }, { restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }));
      fake.seed(pod('other', { app: 'other' }, { restartCount: 9, state: { waiting: { reason: 'CrashLoopBackOff' } } }));
      const health = await podHealth(api, [web], NOW);
      expect(health).toEqual({ pods: 2, restarts: 2, problems: ['Deployment demo/web: pod demo/web-2 container web: ImagePullBackOff'] });
    });
  });
});

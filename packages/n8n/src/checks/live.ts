import type { KubeApi, KubeObject, LiveCheck } from '@groundwork/kube';
import { selectorLabels, type App } from '@groundwork/kube';
import { MAIN, NAMESPACE, PORTS, WEBHOOK, WORKER } from '../names.ts';
import { publicReadiness } from './public-url.ts';

const isReady = (pod: KubeObject) => ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function podsOf(api: KubeApi, app: App): Promise<KubeObject[]> {
  const labelSelector = Object.entries(selectorLabels(app)).map(([k, v]) => `${k}=${v}`).join(',');
  return api.list('v1', 'Pod', { namespace: NAMESPACE, labelSelector });
}

/**
 * Main, workers and webhook processors each have their pods ready, and every worker says so itself: its
 * /healthz/readiness only answers 200 with the database and the queue connected.
 */
const processes: LiveCheck = {
  name: 'processes',
  async run(api, { cluster }) {
    const { workers, webhookProcessors } = cluster.config.features.n8n;
    const wanted: Array<[string, App, number]> = [['main', MAIN, 1], ['workers', WORKER, workers], ['webhook processors', WEBHOOK, webhookProcessors]];
    const problems: string[] = [];
    const counts: string[] = [];
    for (const [what, app, want] of wanted) {
      if (want === 0) continue;
      const pods = await podsOf(api, app);
      const ready = pods.filter(isReady);
      counts.push(`${what} ${ready.length}/${want}`);
      if (ready.length < want) problems.push(`${what}: ${ready.length}/${want} ready`);
    }
    for (const pod of (await podsOf(api, WORKER)).filter(isReady)) {
      try {
        const { status, body } = await api.proxyGet(NAMESPACE, pod.metadata.name, PORTS.n8n, '/healthz/readiness', 'pods');
        if (status !== 200) problems.push(`worker ${pod.metadata.name} is not connected to the database and queue (${status} ${body.slice(0, 120).trim()})`);
      } catch (error) {
        problems.push(`worker ${pod.metadata.name} is unreachable through the API server (${(error as Error).message.split('\n')[0]})`);
      }
    }
    return problems.length ? { ok: false, detail: problems.join('; ') } : { ok: true, detail: `${counts.join(', ')} ready; queue connected` };
  },
};

const publicUrl: LiveCheck = { name: 'public-url', run: (api, { cluster }) => publicReadiness(api, cluster) };

export const n8nLiveChecks: LiveCheck[] = [processes, publicUrl];

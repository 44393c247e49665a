import type { LoadedCluster } from '@groundwork/cluster';
import { service } from '@groundwork/kube';
import { webhookEnv } from '../config/env.ts';
import { PORTS, WEBHOOK } from '../names.ts';
import { n8nProcess } from './process.ts';

/** Webhook processors: they take production webhook calls (/webhook/*) and put them on the queue. */
export function webhooks(cluster: LoadedCluster): object[] {
  return [
    service(WEBHOOK, { ports: [{ name: 'http', port: PORTS.n8n }] }),
    ...n8nProcess(WEBHOOK, {
      container: 'webhook',
      replicas: cluster.config.features.n8n.webhookProcessors,
      singleReplicaReason: 'production webhooks fail while the only webhook processor restarts (raise features.n8n.webhookProcessors for more)',
      args: ['webhook'],
      env: webhookEnv(cluster),
      resources: { cpu: '100m', memory: '384Mi', memoryLimit: '768Mi' },
    }),
  ];
}

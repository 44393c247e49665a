import { n8nHost, type LoadedCluster } from '@groundwork/cluster';
import type { Component, KubeLayer } from '@groundwork/kube';
import { n8nLiveChecks } from './checks/live.ts';
import { exposure } from './components/ingress.ts';
import { main } from './components/main.ts';
import { network } from './components/network.ts';
import { postgres } from './components/postgres.ts';
import { valkey } from './components/valkey.ts';
import { webhooks } from './components/webhooks.ts';
import { workers } from './components/workers.ts';
import { IMAGES, tagOf } from './versions.ts';

export const LAYER = 'n8n';

/** Everything the layer renders; nothing when the cluster file leaves n8n off. */
export function components(cluster: LoadedCluster): Component[] {
  const { n8n } = cluster.config.features;
  if (!n8n.enabled) return [];
  const out: Component[] = [
    { name: 'network', description: 'the n8n namespace, default-deny, and what the n8n processes may reach', objects: network(cluster) },
    { name: 'postgres', description: `PostgreSQL ${tagOf(IMAGES.postgres)}: the n8n database, its least-privilege role created on first start`, objects: postgres(cluster) },
    { name: 'valkey', description: `Valkey ${tagOf(IMAGES.valkey)}: the queue, password-protected, persisted`, objects: valkey(cluster) },
    { name: 'main', description: `n8n ${tagOf(IMAGES.n8n)} main: editor, API, triggers (one replica)`, objects: main(cluster) },
    { name: 'workers', description: `n8n workers: ${n8n.workers} × concurrency ${n8n.concurrency}`, objects: workers(cluster) },
  ];
  if (n8n.webhookProcessors > 0) out.push({ name: 'webhooks', description: `n8n webhook processors: ${n8n.webhookProcessors} for /webhook/*`, objects: webhooks(cluster) });
  out.push({ name: 'ingress', description: `https://${n8nHost(cluster.config)}/ through Traefik`, objects: exposure(cluster) });
  return out;
}

export const n8nLayer: KubeLayer = { name: LAYER, components, liveChecks: n8nLiveChecks };

import { n8nHost, type LoadedCluster } from '@groundwork/cluster';
import { ingress, objectName } from '@groundwork/kube';
import { MAIN, PORTS, WEBHOOK } from '../names.ts';

/** The prefix production webhooks arrive on; /webhook-test/ and /webhook-waiting/ stay with main. */
export const WEBHOOK_PREFIX = '/webhook/';

/**
 * The public entrance through Traefik, on the host the cluster file names: /webhook/ to the webhook
 * processors when there are any, everything else to main. A Cloudflare tunnel, when on, forwards the same
 * host to Traefik.
 */
export function exposure(cluster: LoadedCluster): object[] {
  const { webhookProcessors } = cluster.config.features.n8n;
  return [
    ingress(MAIN, {
      host: n8nHost(cluster.config),
      port: PORTS.n8n,
      routes: webhookProcessors > 0 ? [{ path: WEBHOOK_PREFIX, service: objectName(WEBHOOK), port: PORTS.n8n }] : [],
    }),
  ];
}

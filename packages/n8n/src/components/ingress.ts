import { n8nHost, type LoadedCluster } from '@groundwork/cluster';
import { ingress, objectName } from '@groundwork/kube';
import { MAIN, PORTS, WEBHOOK } from '../names.ts';

/**
 * The paths n8n serves from its webhook processors: production webhooks, Wait-node resumes, forms and their
 * resumes, MCP Server Triggers, and the Slack and Telegram human-in-the-loop callbacks (n8n 2.41's
 * abstract-server.js registers exactly these when webhooks are enabled). With webhook processors, main runs with N8N_DISABLE_PRODUCTION_MAIN_PROCESS,
 * which turns every one of these off on main; the test variants (/webhook-test/, /form-test/, /mcp-test/) stay
 * with main, where the editor listens for them.
 */
export const WEBHOOK_PATHS = ['/webhook/', '/webhook-waiting/', '/webhook-waiting-slack', '/webhook-waiting-telegram', '/form/', '/form-waiting/', '/mcp/'] as const;

/**
 * The public entrance through Traefik, on the host the cluster file names: the webhook processors' paths to
 * them when there are any, everything else to main. A Cloudflare tunnel, when on, forwards the same
 * host to Traefik.
 */
export function exposure(cluster: LoadedCluster): object[] {
  const { webhookProcessors } = cluster.config.features.n8n;
  return [
    ingress(MAIN, {
      host: n8nHost(cluster.config),
      port: PORTS.n8n,
      routes: webhookProcessors > 0 ? WEBHOOK_PATHS.map((path) => ({ path, service: objectName(WEBHOOK), port: PORTS.n8n })) : [],
    }),
  ];
}

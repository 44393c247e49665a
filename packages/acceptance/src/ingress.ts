import { request } from 'node:http';
import { expect } from 'vitest';
import type { LoadedCluster } from '@groundwork/cluster';
import type { KubeObject } from '@groundwork/kube';
import { startIngressRouter, traefikServiceName } from '@groundwork/testkit/kube';
import type { ClusterControlPlane } from '@groundwork/testkit/kube';

type Backend = { service: { name: string; port: { number?: number; name?: string } } };
type Rule = { host: string; http: { paths: Array<{ path: string; pathType: string; backend: Backend }> } };

/**
 * Where n8n 2.41 serves each kind of request (its abstract-server.js): with webhook processors, main turns the
 * production paths off and only the processors answer them; the test variants and the editor stay on main.
 */
const N8N_PATHS: Array<[string, 'webhook' | 'main']> = [
  ['/webhook/orders', 'webhook'],
  ['/webhook-waiting/42', 'webhook'],
  ['/webhook-waiting-slack', 'webhook'],
  ['/webhook-waiting-telegram', 'webhook'],
  ['/form/signup', 'webhook'],
  ['/form-waiting/42', 'webhook'],
  ['/mcp/tools', 'webhook'],
  ['/webhook-test/orders', 'main'],
  ['/form-test/signup', 'main'],
  ['/mcp-test/tools', 'main'],
  ['/rest/settings', 'main'],
  ['/', 'main'],
];

/** The Traefik service a request was routed to (the router names it in X-Traefik-Service; 502: no backend here). */
function routedTo(url: string, host: string, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['x-traefik-service'] as string | undefined));
    });
    req.on('error', reject);
    req.end();
  });
}

const traefikService = (namespace: string, backend: Backend) => traefikServiceName(namespace, backend.service.name, backend.service.port.number ?? backend.service.port.name!);

/** Routes a request through every rendered Ingress path and n8n's own paths; returns how many were checked. */
export async function checkIngressRouting(plane: ClusterControlPlane, cluster: LoadedCluster, objects: KubeObject[]): Promise<number> {
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  const paths = ingresses.flatMap((i) => (i.spec as { rules: Rule[] }).rules.flatMap((r) => r.http.paths));
  const router = await startIngressRouter(plane);
  try {
    await plane.client.waitFor('Traefik\'s provider to make a router for every Ingress path', async () => (router.routes().length >= paths.length ? true : undefined), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${router.program.tail()}`);
    });
    let checked = 0;
    for (const ingress of ingresses) {
      const namespace = ingress.metadata.namespace!;
      for (const rule of (ingress.spec as { rules: Rule[] }).rules) {
        for (const path of rule.http.paths) {
          const probe = path.path.endsWith('/') ? `${path.path}groundwork-probe` : path.path;
          expect(await routedTo(router.url, rule.host, probe), `${rule.host}${probe} among ${JSON.stringify(router.routes())}\n${router.program.tail()}`).toBe(traefikService(namespace, path.backend));
          checked++;
        }
        if (ingress.metadata.name === 'n8n' && cluster.config.features.n8n.webhookProcessors > 0) {
          const main = rule.http.paths.find((p) => p.path === '/')!.backend;
          const webhook = rule.http.paths.find((p) => p.backend.service.name !== main.service.name)!.backend;
          for (const [path, where] of N8N_PATHS) {
            expect(await routedTo(router.url, rule.host, path), `${rule.host}${path}`).toBe(traefikService(namespace, where === 'main' ? main : webhook));
            checked++;
          }
        }
      }
    }
    // The provider copies the published Service's address into every Ingress's status (ingresses/status RBAC).
    const published = (await plane.client.get('v1', 'Service', 'traefik', 'traefik'))?.status as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined;
    const address = published?.loadBalancer?.ingress?.[0]?.ip;
    if (address) {
      for (const ingress of ingresses) {
        await plane.client.waitFor(`Ingress ${ingress.metadata.namespace}/${ingress.metadata.name} to carry Traefik's address`, async () => {
          const live = await plane.client.get('networking.k8s.io/v1', 'Ingress', ingress.metadata.name, ingress.metadata.namespace);
          return (live?.status as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined)?.loadBalancer?.ingress?.[0]?.ip === address ? true : undefined;
        }, 30_000);
      }
    }
    return checked;
  } finally {
    await router.stop();
  }
}

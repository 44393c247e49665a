import { request } from 'node:https';
import { addressResolver, type Address } from '@groundwork/kit';
import { loadBalancerPool, n8nHost, type LoadedCluster } from '@groundwork/cluster';
import type { KubeApi } from '@groundwork/kube';
import { NODE_PORTS, TRAEFIK_NAMESPACE } from '@groundwork/platform-core';

export interface HttpsAnswer {
  status: number;
  body: string;
  /** Whether the certificate chains to a trusted CA for the host name (Traefik's default one does not). */
  trusted: boolean;
}

/** GET https://<host><path> at `address`: SNI and Host name the public host whatever address is dialled. */
export function httpsGet(host: string, address: Address, path: string, timeoutMs = 10_000): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address.host, port: address.port, path, servername: host, headers: { host }, rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        const trusted = (res.socket as { authorized?: boolean } | null)?.authorized === true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), trusted }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Where Traefik answers when the public name does not resolve from here: its LoadBalancer address, or a node port. */
async function traefikAddress(api: KubeApi, cluster: LoadedCluster): Promise<Address | undefined> {
  if (!loadBalancerPool(cluster.config)) {
    const node = cluster.config.nodes.find((n) => n.role === 'worker') ?? cluster.config.nodes[0]!;
    return { host: node.ip, port: NODE_PORTS.https };
  }
  const svc = await api.get({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'traefik', namespace: TRAEFIK_NAMESPACE } });
  const ip = (svc?.status as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;
  return ip ? { host: ip, port: 443 } : undefined;
}

/**
 * The public URL's readiness endpoint, through the Ingress: by its name when that resolves (DNS, or a
 * GROUNDWORK_ADDRESS_MAP entry for host:443), else at Traefik's own address with the name as Host and SNI.
 */
export async function publicReadiness(api: KubeApi, cluster: LoadedCluster, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; detail: string }> {
  const host = n8nHost(cluster.config);
  const resolve = addressResolver(env);
  const url = `https://${host}/healthz/readiness`;
  const attempt = async (address: Address, via: string) => {
    const answer = await httpsGet(host, resolve(address.host, address.port), '/healthz/readiness');
    const cert = answer.trusted ? 'its certificate is trusted' : 'its certificate is not trusted here, Traefik\'s default?';
    return answer.status === 200
      ? { ok: true, detail: `${url} ready ${via}; ${cert}` }
      : { ok: false, detail: `${url} answered ${answer.status} ${via}: ${answer.body.slice(0, 160).trim()}` };
  };
  try {
    return await attempt({ host, port: 443 }, 'by its name');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTFOUND' && code !== 'EAI_AGAIN') return { ok: false, detail: `${url} is unreachable by its name: ${(error as Error).message}` };
  }
  const traefik = await traefikAddress(api, cluster);
  if (!traefik) return { ok: false, detail: `${host} does not resolve here and ${TRAEFIK_NAMESPACE}/traefik has no LoadBalancer address` };
  try {
    return await attempt(traefik, `through Traefik at ${traefik.host}:${traefik.port}, as ${host} does not resolve here`);
  } catch (error) {
    return { ok: false, detail: `${url}: Traefik at ${traefik.host}:${traefik.port} is unreachable: ${(error as Error).message}` };
  }
}

import { request } from 'node:https';
import { isIP } from 'node:net';
import { parse, parseDocument } from 'yaml';
import type { Address } from '@groundwork/kit';

/**
 * The two Kubernetes calls talos-config makes itself, both with the admin kubeconfig (Talos's API server refuses
 * anonymous requests): GET /readyz, to know the API is up, and GET /api/v1/nodes for the live check.
 * platform-core brings the full client.
 */

export interface KubeCredentials {
  server: string;
  ca: string;
  cert?: string;
  key?: string;
}

export function kubeCredentialsFromKubeconfig(text: string): KubeCredentials {
  const config = parse(text) as {
    'current-context'?: string;
    contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
    clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
    users?: Array<{ name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }>;
  };
  const context = config.contexts?.find((c) => c.name === config['current-context']) ?? config.contexts?.[0];
  const cluster = config.clusters?.find((c) => c.name === context?.context.cluster) ?? config.clusters?.[0];
  const user = config.users?.find((u) => u.name === context?.context.user) ?? config.users?.[0];
  if (!cluster) throw new Error('kubeconfig: no cluster');
  const data = (value: string | undefined) => (value ? Buffer.from(value, 'base64').toString('utf8') : undefined);
  return {
    server: cluster.cluster.server,
    ca: data(cluster.cluster['certificate-authority-data']) ?? '',
    ...(user?.user['client-certificate-data'] ? { cert: data(user.user['client-certificate-data'])! } : {}),
    ...(user?.user['client-key-data'] ? { key: data(user.user['client-key-data'])! } : {}),
  };
}

/** The kubeconfig with every cluster's server set to `server` (Talos hands it out with the nodes' endpoint). */
export function withServer(text: string, server: string): string {
  const doc = parseDocument(text);
  const clusters = doc.get('clusters') as { items?: Array<{ getIn(path: string[]): unknown; setIn(path: string[], value: unknown): void }> } | undefined;
  for (const item of clusters?.items ?? []) if (item.getIn(['cluster', 'server']) !== undefined) item.setIn(['cluster', 'server'], server);
  return doc.toString({ lineWidth: 0 });
}

export interface KubeResponse {
  status: number;
  body: string;
}

/** A GET against the API server, verifying it with the cluster CA under its real name even when redirected. */
export function kubeGet(credentials: KubeCredentials, path: string, resolve: (host: string, port: number) => Address, timeoutMs = 10_000): Promise<KubeResponse> {
  const url = new URL(credentials.server);
  const port = Number(url.port || 443);
  const target = resolve(url.hostname, port);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        path,
        method: 'GET',
        ca: credentials.ca,
        ...(credentials.cert ? { cert: credentials.cert, key: credentials.key } : {}),
        servername: isIP(url.hostname) ? undefined : url.hostname,
        // The connection may go to a redirected address; the certificate must still name the real server.
        checkServerIdentity: (_host, cert) => verifyName(url.hostname, cert),
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolvePromise({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

function verifyName(host: string, cert: { subjectaltname?: string }): Error | undefined {
  const names = (cert.subjectaltname ?? '').split(', ').map((n) => n.replace(/^(DNS|IP Address):/, ''));
  return names.includes(host) ? undefined : new Error(`the API server certificate is not valid for ${host}`);
}

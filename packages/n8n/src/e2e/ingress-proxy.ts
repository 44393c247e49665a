import { createServer, request, type Server } from 'node:http';
import type { KubeObject } from '@groundwork/kube';

interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string } };
}

/** Kubernetes Prefix matching: whole path elements, a trailing slash ignored (/webhook/ matches /webhook/x, not /webhook-test/x). */
export function prefixMatches(prefix: string, path: string): boolean {
  const want = prefix.split('/').filter(Boolean);
  const got = path.split('?')[0]!.split('/').filter(Boolean);
  return want.every((element, i) => got[i] === element);
}

/** The Service an Ingress sends a request to: its host must match, and the longest matching prefix wins. */
export function route(ingress: KubeObject, host: string, path: string): string | undefined {
  const rules = (ingress.spec as { rules: Array<{ host: string; http: { paths: IngressPath[] } }> }).rules;
  const rule = rules.find((r) => r.host === host.replace(/:\d+$/, ''));
  if (!rule) return undefined;
  const candidates = rule.http.paths.filter((p) => p.pathType === 'Prefix' && prefixMatches(p.path, path));
  candidates.sort((a, b) => b.path.split('/').filter(Boolean).length - a.path.split('/').filter(Boolean).length);
  return candidates[0]?.backend.service.name;
}

/**
 * Stands in for Traefik in front of the local processes: it routes by the rendered Ingress (Service name
 * to a local port) and adds the X-Forwarded-* headers a proxy adds. `hits` counts requests per Service.
 */
export function startIngress(ingress: KubeObject, services: Record<string, number>): Promise<{ port: number; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const service = route(ingress, req.headers.host ?? '', req.url ?? '/');
    const port = service ? services[service] : undefined;
    if (!service || port === undefined) {
      res.writeHead(404).end('no route');
      return;
    }
    hits.set(service, (hits.get(service) ?? 0) + 1);
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': req.headers.host ?? '' } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => res.writeHead(502).end(error.message));
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, hits, server })));
}

/** A plain HTTP request with the Host header set (fetch does not let a caller choose Host). */
export function httpRequest(port: number, input: { method?: string; path: string; host: string; body?: unknown }): Promise<{ status: number; text: string }> {
  const body = input.body === undefined ? undefined : JSON.stringify(input.body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: input.method ?? (body ? 'POST' : 'GET'), path: input.path, headers: { host: input.host, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { execFile } from '@groundwork/kit';
import { scratchDir } from '@groundwork/testkit';

export interface TlsIngress {
  server: Server;
  port: number;
  /** What /healthz/readiness answers for the host (200 until changed). */
  readiness: number;
}

/**
 * Stands in for Traefik's HTTPS entry point: a certificate for `host` made by openssl (self-signed, as
 * Traefik's default one is not trusted either), routing by Host like an Ingress rule.
 */
export function startTlsIngress(host: string): Promise<TlsIngress> {
  const dir = scratchDir('gw-n8n-tls-');
  const made = execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  if (made.status !== 0) throw new Error(made.stderr.toString());
  const state = { readiness: 200 } as TlsIngress;
  state.server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    if (req.headers.host !== host) return void res.writeHead(404).end('404 page not found');
    if (req.url === '/healthz/readiness') return void res.writeHead(state.readiness).end(state.readiness === 200 ? '{"status":"ok"}' : '{"status":"error"}');
    res.writeHead(404).end();
  });
  return new Promise((resolve) => state.server.listen(0, '127.0.0.1', () => resolve(Object.assign(state, { port: (state.server.address() as { port: number }).port }))));
}

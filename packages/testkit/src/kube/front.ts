import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ControlPlane } from './control-plane.ts';
import { kubeconfigText } from './files.ts';
import { issueLeaf } from './pki.ts';

/**
 * A small TLS proxy in front of the real kube-apiserver, for what a real server will not do on demand:
 *  - faults: a dropped connection, an error status or a slow answer for chosen requests;
 *  - answers from inside pods: the API server's service and pod proxy would dial pod IPs, which kwok invents
 *    and nothing listens on. The proxy checks with the real API server that the caller may read the Service
 *    (or Pod) and that it has a ready endpoint (or is Running), then answers with what the test says the
 *    program in the pod would answer. Everything else goes to the real server unchanged.
 * It authenticates callers by their client certificate (the cluster's CA) and passes their identity on the
 * way Kubernetes' aggregation layer does: the front-proxy client certificate with X-Remote-User/Group headers.
 */

/** What the program in a pod answers for `path` (with its query); `target` is the pod or Service asked for. */
export type InPodHandler = (path: string, target: string) => { status: number; body: string | object };

export interface Fault {
  method?: string;
  path: RegExp;
  /** `drop` closes the connection without an answer; a number answers with that status; `delay` waits first. */
  effect: 'drop' | number | { delayMs: number };
  /** How many matching requests it affects (default 1). */
  times?: number;
}

interface Armed extends Fault {
  left: number;
}

const PROXY = /^\/api\/v1\/namespaces\/([^/]+)\/(services|pods)\/(?:https?:)?([^/:]+)(?::([^/]+))?\/proxy(\/[^?]*)?(\?.*)?$/;

export class ApiFront {
  /** In-pod answers by `namespace/service:port` or `namespace/pod/name:port` (`namespace/pod/*:port` for any pod). */
  readonly inPod = new Map<string, InPodHandler>();
  private readonly faults: Armed[] = [];
  private server: Server | undefined;
  private readonly plane: ControlPlane;

  constructor(plane: ControlPlane) {
    this.plane = plane;
  }

  async start(): Promise<string> {
    const serving = issueLeaf(this.plane.spec.ca, { commonName: 'api-front', dnsNames: ['localhost'], ips: ['127.0.0.1'], usages: ['serverAuth'] });
    this.server = createServer({ cert: serving.crt, key: serving.key, ca: this.plane.spec.ca.crt, requestCert: true, rejectUnauthorized: false }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The admin kubeconfig pointing at this proxy. */
  kubeconfig(): string {
    return kubeconfigText(this.plane.spec.clusterName, this.url, this.plane.spec.ca.crt, { crt: this.plane.admin.cert, key: this.plane.admin.key });
  }

  /**
   * A Service with `replicas` pods behind it (kwok runs them, the real controllers publish their endpoints) whose
   * program answers with `handler`: for live checks that reach into the cluster through the API server's proxy.
   */
  async serve(target: { namespace: string; name: string; port: number; replicas?: number }, handler: InPodHandler): Promise<void> {
    const labels = { 'app.kubernetes.io/name': target.name, 'groundwork.dev/stand-in': 'true' };
    await this.plane.client.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: target.name, namespace: target.namespace, labels },
        spec: {
          replicas: target.replicas ?? 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [{ name: target.name, image: `stand-in/${target.name}`, ports: [{ containerPort: target.port }], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
            },
          },
        },
      },
      'test-harness',
    );
    await this.plane.client.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: target.name, namespace: target.namespace, labels }, spec: { selector: labels, ports: [{ port: target.port, targetPort: target.port }] } }, 'test-harness');
    this.inPod.set(`${target.namespace}/${target.name}:${target.port}`, handler);
  }

  fail(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private identity(req: IncomingMessage): Record<string, string | string[]> {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return {};
    const subject = socket.getPeerCertificate().subject as unknown as { CN?: string; O?: string | string[] };
    return { 'x-remote-user': subject.CN ?? '', 'x-remote-group': ([] as string[]).concat(subject.O ?? []) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method === req.method) && f.path.test(req.url ?? ''));
    if (fault) {
      fault.left--;
      if (fault.effect === 'drop') return void req.socket.destroy();
      if (typeof fault.effect === 'number') return void res.writeHead(fault.effect, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `injected fault: HTTP ${fault.effect}`, reason: 'InternalError', code: fault.effect }));
      await new Promise((r) => setTimeout(r, (fault.effect as { delayMs: number }).delayMs));
    }
    const proxied = PROXY.exec(req.url ?? '');
    if (proxied && req.method === 'GET') return this.answerFromPod(req, res, proxied);
    this.forward(req, res);
  }

  private forward(req: IncomingMessage, res: ServerResponse, path = req.url ?? '/', method = req.method): void {
    const { authorization: _authorization, ...headers } = req.headers;
    const upstream = new URL(this.plane.url);
    const identity = this.identity(req);
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path,
        method,
        ca: this.plane.spec.ca.crt,
        cert: this.plane.frontProxyClient.crt,
        key: this.plane.frontProxyClient.key,
        // A caller without a client certificate keeps its bearer token, and is authenticated by it.
        headers: { ...headers, host: upstream.host, ...identity, ...(identity['x-remote-user'] ? {} : req.headers.authorization ? { authorization: req.headers.authorization } : {}) },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', (error) => res.writeHead(502).end(error.message));
    req.pipe(outgoing);
  }

  private async check(req: IncomingMessage, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve) => {
      const identity = this.identity(req);
      const upstream = new URL(this.plane.url);
      const outgoing = request({ host: upstream.hostname, port: upstream.port, path, method: 'GET', ca: this.plane.spec.ca.crt, cert: this.plane.frontProxyClient.crt, key: this.plane.frontProxyClient.key, headers: { accept: 'application/json', ...identity } }, (answer) => {
        let body = '';
        answer.on('data', (c: Buffer) => (body += c.toString()));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body }));
      });
      outgoing.on('error', (error) => resolve({ status: 502, body: error.message }));
      outgoing.end();
    });
  }

  private async answerFromPod(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray): Promise<void> {
    const [, namespace, kind, name, port, path = '/', query = ''] = match as unknown as string[];
    const send = (status: number, body: string | object): void => void res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
    const own = await this.check(req, `/api/v1/namespaces/${namespace}/${kind}/${name}`);
    if (own.status !== 200) return void res.writeHead(own.status, { 'content-type': 'application/json' }).end(own.body);
    if (kind === 'services') {
      const slices = await this.check(req, `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`);
      const ready = slices.status === 200 && (JSON.parse(slices.body) as { items: Array<{ endpoints?: Array<{ conditions?: { ready?: boolean } }> }> }).items.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready !== false));
      if (!ready) return send(503, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `no endpoints available for service "${name}"`, reason: 'ServiceUnavailable', code: 503 });
    } else if ((JSON.parse(own.body) as { status?: { phase?: string } }).status?.phase !== 'Running') {
      return send(503, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `pod ${name} is not running`, reason: 'ServiceUnavailable', code: 503 });
    }
    const prefix = `${namespace}/${kind === 'pods' ? 'pod/' : ''}`;
    const handler = this.inPod.get(`${prefix}${name}${port ? `:${port}` : ''}`) ?? (kind === 'pods' ? this.inPod.get(`${prefix}*${port ? `:${port}` : ''}`) : undefined);
    if (!handler) return send(503, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `error trying to reach ${kind === 'pods' ? 'pod' : 'service'}: dial tcp: connect: connection refused`, reason: 'ServiceUnavailable', code: 503 });
    const answer = handler(`${path}${query}`, name!);
    send(answer.status, answer.body);
  }
}

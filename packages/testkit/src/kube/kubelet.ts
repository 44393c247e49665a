import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TestClient, type KubeObject } from './client.ts';
import type { ControlPlane } from './control-plane.ts';
import { certificateRequest, issueLeaf } from './pki.ts';

/**
 * The part of a kubelet that metrics-server talks to, for a kwok node: a kubelet cannot run here (it needs a
 * container runtime and cgroups), so this stand-in does only what the kubelet documents for it, and the real
 * control plane does the rest:
 *  - its serving certificate comes from a CertificateSigningRequest for signer `kubernetes.io/kubelet-serving`,
 *    sent as the node itself (user `system:node:<name>`, group `system:nodes`), as a kubelet run with
 *    `--rotate-server-certificates` does (talos-config sets it); someone approves it (`approve`), the real
 *    kube-controller-manager signs it with the cluster CA;
 *  - it publishes its address and port in the Node's status (InternalIP, daemonEndpoints.kubeletEndpoint);
 *  - `GET /metrics/resource` answers in the Prometheus text format (node_* and container_* series, millisecond
 *    timestamps) after webhook authentication (TokenReview) and authorization (a SubjectAccessReview for `get`
 *    on `nodes/metrics`), the kubelet authentication and authorization modes Talos configures.
 * Usage is constant: `cpuMilli` of CPU (the counter grows at that rate) and `memoryBytes` of working set.
 */

export interface KubeletOptions {
  /** A non-loopback address of this machine: Node addresses may not be loopback. */
  address: string;
  /** Approves the serving certificate request `name` (the kubelet-serving-cert-approver's job on a cluster). */
  approve: (name: string) => Promise<void>;
  cpuMilli: number;
  memoryBytes: number;
}

export interface KubeletStandIn {
  node: string;
  url: string;
  /** Who asked for metrics, and what the stand-in answered. */
  requests: Array<{ path: string; user: string; status: number }>;
  stop(): Promise<void>;
}

/**
 * Sends a certificate request as the node (its serving certificate unless `signerName` says otherwise); returns
 * its name and the private key the node keeps.
 */
export async function requestNodeCertificate(plane: ControlPlane, node: string, address: string, signerName = 'kubernetes.io/kubelet-serving'): Promise<{ name: string; key: string }> {
  const identity = issueLeaf(plane.spec.ca, { commonName: `system:node:${node}`, organizations: ['system:nodes'], usages: ['clientAuth'] });
  const client = new TestClient({ server: plane.url, ca: plane.spec.ca.crt, cert: identity.crt, key: identity.key });
  const { csr, key } = certificateRequest({ commonName: `system:node:${node}`, organizations: ['system:nodes'], dnsNames: [node], ips: [address] });
  const created = await client.create({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'csr-' } as unknown as KubeObject['metadata'],
    spec: { request: Buffer.from(csr).toString('base64'), signerName, usages: ['digital signature', signerName === 'kubernetes.io/kubelet-serving' ? 'server auth' : 'client auth'] },
  });
  return { name: created.metadata.name, key };
}

/**
 * Approves a certificate request through the approval subresource, as `client` (kubectl certificate approve
 * sends the same): the API server's CertificateApproval admission lets it through only if `client` may
 * `approve` the request's signer. Returns the HTTP status.
 */
export async function approveCertificateRequest(client: TestClient, name: string, reason: string): Promise<{ status: number; body: string }> {
  const csr = await client.get('certificates.k8s.io/v1', 'CertificateSigningRequest', name);
  if (!csr) throw new Error(`certificate request ${name} not found`);
  const conditions = [...(((csr.status as { conditions?: object[] } | undefined)?.conditions) ?? []), { type: 'Approved', status: 'True', reason, message: `approved by ${reason}`, lastUpdateTime: new Date().toISOString() }];
  const response = await client.request('PUT', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/approval`, { ...csr, status: { ...(csr.status as object), conditions } });
  return { status: response.status, body: response.body };
}

function metricsText(options: KubeletOptions, pods: KubeObject[], startedMs: number): string {
  const now = Date.now();
  const seconds = (now - startedMs) / 1000 + 60;
  const lines = [
    '# TYPE node_cpu_usage_seconds_total counter',
    `node_cpu_usage_seconds_total ${((options.cpuMilli / 1000) * seconds).toFixed(6)} ${now}`,
    '# TYPE node_memory_working_set_bytes gauge',
    `node_memory_working_set_bytes ${options.memoryBytes} ${now}`,
  ];
  for (const type of ['container_cpu_usage_seconds_total counter', 'container_memory_working_set_bytes gauge', 'container_start_time_seconds gauge']) lines.push(`# TYPE ${type}`);
  for (const pod of pods) {
    for (const container of (pod.spec as { containers: Array<{ name: string }> }).containers) {
      const labels = `{container="${container.name}",namespace="${pod.metadata.namespace}",pod="${pod.metadata.name}"}`;
      lines.push(`container_cpu_usage_seconds_total${labels} ${(0.001 * seconds).toFixed(6)} ${now}`, `container_memory_working_set_bytes${labels} ${8 * 1024 * 1024} ${now}`, `container_start_time_seconds${labels} ${startedMs / 1000} ${now}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function startKubeletStandIn(plane: ControlPlane, node: string, options: KubeletOptions): Promise<KubeletStandIn> {
  const admin = plane.client;
  const { name, key } = await requestNodeCertificate(plane, node, options.address);
  await options.approve(name);
  const issued = await admin.waitFor(`the serving certificate of ${node} to be signed`, async () => {
    const csr = await admin.get('certificates.k8s.io/v1', 'CertificateSigningRequest', name);
    const certificate = (csr?.status as { certificate?: string } | undefined)?.certificate;
    return certificate ? Buffer.from(certificate, 'base64').toString() : undefined;
  }, 60_000);
  const requests: KubeletStandIn['requests'] = [];
  const startedMs = Date.now();
  /** A TokenReview or SubjectAccessReview, as the kubelet's webhook authentication and authorization send them. */
  const review = async (group: string, kind: string, spec: object) =>
    (await admin.create({ apiVersion: `${group}/v1`, kind, metadata: {} as KubeObject['metadata'], spec } as KubeObject)).status as Record<string, any>;
  const server: Server = createServer({ key, cert: issued }, (req, res) => {
    void (async () => {
      const answer = (status: number, body: string, user = '') => {
        requests.push({ path: req.url ?? '', user, status });
        res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
      };
      if (req.method !== 'GET' || req.url !== '/metrics/resource') return answer(404, 'not found');
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const authn = token ? await review('authentication.k8s.io', 'TokenReview', { token }) : { authenticated: false };
      if (!authn.authenticated) return answer(401, 'Unauthorized');
      const user = authn.user as { username: string; uid?: string; groups?: string[]; extra?: object };
      const authz = await review('authorization.k8s.io', 'SubjectAccessReview', { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'metrics', name: node } });
      if (!authz.allowed) return answer(403, `Forbidden (user=${user.username}, verb=get, resource=nodes, subresource=(metrics))`, user.username);
      const pods = await admin.list('v1', 'Pod', { fieldSelector: `spec.nodeName=${node},status.phase=Running` });
      answer(200, metricsText(options, pods, startedMs), user.username);
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, options.address, resolve));
  const port = (server.address() as AddressInfo).port;
  await admin.setStatus('v1', 'Node', node, undefined, { addresses: [{ type: 'InternalIP', address: options.address }, { type: 'Hostname', address: node }], daemonEndpoints: { kubeletEndpoint: { Port: port } } }, 'kubelet');
  return { node, url: `https://${options.address}:${port}`, requests, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

import { request } from 'node:http';
import type { KubeObject } from '@groundwork/kube';
import { startIngressRouter, traefikServiceName, type ControlPlane, type IngressRouter } from '@groundwork/testkit/kube';

/**
 * The rendered Ingress in front of the real n8n processes, routed by Traefik's own Ingress provider and router
 * (testkit's ingress router) from a real API server: the rendered Ingress and Services are applied there, with
 * EndpointSlices standing for the pods, and each Service's requests go to the local process that plays it.
 * What platform-core provides is given here: Traefik's IngressClass and an identity allowed to read Ingresses
 * (the acceptance test checks Traefik's real RBAC).
 */

export interface N8nIngress {
  router: IngressRouter;
  port: number;
  /** Requests per Traefik service name, from the X-Traefik-Service header of each answer. */
  hits: Map<string, number>;
}

type ServicePort = { name?: string; port: number; targetPort?: number | string };

export async function startN8nIngress(plane: ControlPlane, ingress: KubeObject, services: KubeObject[], ports: Record<string, number>): Promise<N8nIngress> {
  const namespace = ingress.metadata.namespace!;
  const create = (object: KubeObject) => plane.client.create(object);
  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'traefik' } });
  await create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'traefik.io/ingress-controller' } });
  await create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'traefik', namespace: 'traefik' } });
  await create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'traefik-e2e' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'traefik', namespace: 'traefik' }] });
  await create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'traefik-e2e-extra' }, rules: [{ apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['get', 'list', 'watch'] }, { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }, { apiGroups: [''], resources: ['secrets', 'nodes'], verbs: ['get', 'list', 'watch'] }] });
  await create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'traefik-e2e-extra' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'traefik-e2e-extra' }, subjects: [{ kind: 'ServiceAccount', name: 'traefik', namespace: 'traefik' }] });
  const backends: Record<string, string> = {};
  let address = 10;
  for (const service of services) {
    await create(service);
    const servicePorts = (service.spec as { ports: ServicePort[] }).ports;
    const local = ports[service.metadata.name];
    if (local === undefined) throw new Error(`no local process stands for Service ${namespace}/${service.metadata.name}`);
    // One ready endpoint per Service, as the EndpointSlice controller would publish for a ready pod.
    await create({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${service.metadata.name}-e2e`, namespace, labels: { 'kubernetes.io/service-name': service.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'groundwork-e2e' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [`10.244.0.${address++}`], conditions: { ready: true, serving: true, terminating: false } }],
      ports: servicePorts.map((p) => ({ name: p.name ?? '', port: typeof p.targetPort === 'number' ? p.targetPort : p.port, protocol: 'TCP' })),
    });
    for (const p of servicePorts) for (const key of [p.port, ...(p.name ? [p.name] : [])]) backends[traefikServiceName(namespace, service.metadata.name, key)] = `http://127.0.0.1:${local}`;
  }
  await create(ingress);
  const router = await startIngressRouter(plane, { backends, provider: { ingressClass: 'traefik', serviceAccount: { namespace: 'traefik', name: 'traefik' } } });
  const paths = (ingress.spec as { rules: Array<{ http: { paths: unknown[] } }> }).rules.reduce((n, r) => n + r.http.paths.length, 0);
  await plane.client.waitFor('Traefik\'s provider to route every path of the Ingress', async () => (router.routes().length === paths ? true : undefined), 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${router.program.tail()}`);
  });
  return { router, port: Number(new URL(router.url).port), hits: new Map() };
}

export interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** An HTTP request with the Host header set (fetch does not let a caller choose Host); JSON unless a body and type are given. */
export function httpRequest(ingress: N8nIngress | number, input: { method?: string; path: string; host: string; body?: unknown; contentType?: string; headers?: Record<string, string> }): Promise<Answer> {
  const port = typeof ingress === 'number' ? ingress : ingress.port;
  const raw = input.body === undefined ? undefined : input.contentType ? (input.body as string | Buffer) : JSON.stringify(input.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: input.method ?? (raw ? 'POST' : 'GET'),
        path: input.path,
        headers: { host: input.host, ...input.headers, ...(raw ? { 'content-type': input.contentType ?? 'application/json', 'content-length': Buffer.byteLength(raw) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const service = res.headers['x-traefik-service'];
          if (typeof ingress !== 'number' && typeof service === 'string') ingress.hits.set(service, (ingress.hits.get(service) ?? 0) + 1);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

/** A multipart/form-data body with text fields, as a browser submits an n8n form. */
export function multipart(fields: Record<string, string>): { body: Buffer; contentType: string } {
  const boundary = `----groundwork${Date.now().toString(16)}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return { body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
}

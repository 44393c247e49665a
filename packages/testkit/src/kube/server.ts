import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { parseLabelSelector } from './selector.ts';
import { groupVersion, type ResourceType } from './resources.ts';
import { ApiError, ObjectStore, type KubeObject } from './store.ts';

/**
 * A Kubernetes API server for tests, speaking the real REST protocol over HTTP: discovery, get and list
 * (label selectors), create, server-side apply (field managers, conflicts, force, dry run), merge
 * patches, delete, CRDs that become served once Established, and workload status. What a cluster's
 * controllers would do is simulated by `controllers` (ready rollouts by default) and by tests.
 */

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** For writes: `Kind namespace/name`. */
  target?: string;
}

export type Controller = (object: KubeObject, api: FakeKubeApi) => void;

/** What a Service answers through the API server's proxy: `path` includes the query string. */
export type ProxyHandler = (path: string) => { status: number; body: string | object };

export interface FakeKubeOptions {
  token?: string;
  /** Mark Deployments, StatefulSets, DaemonSets and Jobs rolled out as soon as they are written (default true). */
  autoReady?: boolean;
  /** How long a new CRD takes to become Established and served. */
  crdDelayMs?: number;
}

export class FakeKubeApi {
  readonly store = new ObjectStore();
  readonly requests: RequestRecord[] = [];
  readonly controllers: Controller[] = [];
  /**
   * Services reachable through `/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/…`, by `ns/name:port`;
   * pods (`…/pods/<name>:<port>/proxy/…`) by `ns/pod/name:port`.
   */
  readonly proxies = new Map<string, ProxyHandler>();
  autoReady: boolean;
  private server: Server | undefined;
  private readonly token: string;
  private readonly crdDelayMs: number;

  constructor(options: FakeKubeOptions = {}) {
    this.token = options.token ?? 'test-token';
    this.autoReady = options.autoReady ?? true;
    this.crdDelayMs = options.crdDelayMs ?? 0;
    this.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } });
    this.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * A kubeconfig for this server with the bearer token it accepts. The server speaks plain HTTP, which
   * @kubernetes/client-node only allows when TLS verification is marked as skipped.
   */
  kubeconfig(context = 'fake'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${context}`,
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${context}`,
      '  user:',
      `    token: ${this.token}`,
      'contexts:',
      `- name: ${context}`,
      '  context:',
      `    cluster: ${context}`,
      `    user: ${context}`,
      `current-context: ${context}`,
      '',
    ].join('\n');
  }

  type(apiVersion: string, kind: string): ResourceType {
    const type = this.store.resourceForKind(apiVersion, kind);
    if (!type) throw new Error(`the fake API does not serve ${apiVersion} ${kind}`);
    return type;
  }

  /** Puts an object in place as another tool would have (manager "seed", or the one given). */
  seed(object: Record<string, unknown>, manager = 'seed'): KubeObject {
    const o = object as KubeObject;
    const type = this.type(o.apiVersion, o.kind);
    return this.store.create(type, o.metadata.namespace, o, manager, false).object;
  }

  /** Nodes that have joined and are Ready, as the kubelets of a running cluster report them. */
  readyNodes(...names: string[]): void {
    for (const name of names) {
      this.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
      this.setStatus('v1', 'Node', name, undefined, { conditions: [{ type: 'Ready', status: 'True' }] });
    }
  }

  get(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined {
    return this.store.get(this.type(apiVersion, kind), namespace, name);
  }

  setStatus(apiVersion: string, kind: string, name: string, namespace: string | undefined, status: Record<string, unknown>): void {
    this.store.setStatus(this.type(apiVersion, kind), namespace, name, status);
  }

  /** Serves a custom resource kind, as an operator registering its CRD would make it. */
  serve(type: ResourceType): void {
    this.store.register(type);
  }

  /** Writes to objects, in order, as `Kind namespace/name` (dry runs excluded). */
  writes(method = 'PATCH'): string[] {
    return this.requests.filter((r) => r.method === method && r.target && r.query.dryRun !== 'All').map((r) => r.target!);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'] };
    this.requests.push(record);
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const body = await readBody(req);
      const result = this.route(record, body);
      send(res, result.code ?? 200, result.body);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', (error as Error).message);
      send(res, apiError.code, apiError.status());
    }
  }

  private route(record: RequestRecord, body: string): { code?: number; body: unknown } {
    const parts = record.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (record.path === '/api') return { body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (record.path === '/apis') return { body: this.groupList() };
    const [root, ...rest] = parts;
    let group = '';
    let version: string | undefined;
    if (root === 'api') version = rest.shift();
    else if (root === 'apis') {
      group = rest.shift() ?? '';
      version = rest.shift();
    } else throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (!version) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) return { body: this.resourceList(group, version) };

    if (root === 'api' && rest[0] === 'namespaces' && (rest[2] === 'services' || rest[2] === 'pods') && rest[4] === 'proxy') {
      return this.proxy(rest[1]!, rest[2] === 'pods' ? `pod/${rest[3]!}` : rest[3]!, `/${rest.slice(5).join('/')}${record.query && Object.keys(record.query).length ? `?${new URLSearchParams(record.query)}` : ''}`);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest.splice(0, 2);
    }
    const [plural, name, subresource] = rest as [string, string | undefined, string | undefined];
    const type = this.store.resource(group, version, plural);
    if (!type) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${groupVersion({ group, version })} ${plural})`);
    const dryRun = record.query.dryRun === 'All';
    const manager = record.query.fieldManager;
    const describeTarget = (n: string) => `${type.kind} ${namespace ? `${namespace}/` : ''}${n}`;

    switch (record.method) {
      case 'GET': {
        if (name) {
          const object = this.store.get(type, namespace, name);
          if (!object) throw new ApiError(404, 'NotFound', `${type.plural}${type.group ? `.${type.group}` : ''} "${name}" not found`, { name, kind: type.plural });
          return { body: object };
        }
        const matches = parseLabelSelector(record.query.labelSelector);
        const items = this.store.list(type, namespace).filter((o) => matches((o.metadata.labels as Record<string, string>) ?? {}));
        return { body: { apiVersion: groupVersion(type), kind: `${type.kind}List`, metadata: { resourceVersion: '1' }, items } };
      }
      case 'POST': {
        const object = JSON.parse(body) as KubeObject;
        record.target = describeTarget(object.metadata.name);
        const result = this.store.create(type, namespace, object, manager ?? 'unknown', dryRun);
        if (!dryRun) this.afterWrite(result.object);
        return { code: 201, body: result.object };
      }
      case 'PATCH': {
        if (!name) throw new ApiError(405, 'MethodNotAllowed', 'PATCH needs a name');
        record.target = describeTarget(name);
        const contentType = (record.contentType ?? '').split(';')[0];
        if (contentType === 'application/apply-patch+yaml') {
          if (!manager) throw new ApiError(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
          const config = parseYaml(body) as KubeObject;
          const result = this.store.apply(type, namespace, name, config, manager, { force: record.query.force === 'true', dryRun });
          if (!dryRun && result.changed) this.afterWrite(result.object);
          return { code: result.created ? 201 : 200, body: result.object };
        }
        if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') {
          const result = this.store.patch(type, namespace, name, JSON.parse(body) as Record<string, unknown>, manager ?? 'unknown', dryRun, subresource);
          if (!dryRun && result.changed) this.afterWrite(result.object);
          return { body: result.object };
        }
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${contentType}`);
      }
      case 'DELETE': {
        if (!name) throw new ApiError(405, 'MethodNotAllowed', 'DELETE needs a name');
        record.target = describeTarget(name);
        if (!dryRun) this.store.delete(type, namespace, name);
        return { body: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: type.plural } } };
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `${record.method} is not supported here`);
    }
  }

  private proxy(namespace: string, service: string, path: string): { code?: number; body: unknown } {
    const handler = this.proxies.get(`${namespace}/${service}`);
    if (!handler) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for ${service.startsWith('pod/') ? 'pod' : 'service'} "${service.replace(/^pod\//, '')}"`);
    const result = handler(path);
    return { code: result.status, body: result.body };
  }

  private groupList(): Record<string, unknown> {
    const groups = new Map<string, Set<string>>();
    for (const r of this.store.resources) if (r.group) groups.set(r.group, (groups.get(r.group) ?? new Set()).add(r.version));
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups.entries()].map(([name, versions]) => ({
        name,
        versions: [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
      })),
    };
  }

  private resourceList(group: string, version: string): Record<string, unknown> {
    const resources = this.store.resources.filter((r) => r.group === group && r.version === version);
    if (resources.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: groupVersion({ group, version }),
      resources: resources.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
    };
  }

  private afterWrite(object: KubeObject): void {
    if (object.kind === 'CustomResourceDefinition') this.establish(object);
    if (this.autoReady) this.rollOut(object);
    for (const controller of this.controllers) controller(object, this);
  }

  private establish(crd: KubeObject): void {
    const spec = crd.spec as { group: string; names: { kind: string; plural: string }; scope: string; versions: Array<{ name: string; served?: boolean }> };
    const done = () => {
      for (const v of spec.versions.filter((v) => v.served !== false)) {
        this.serve({ group: spec.group, version: v.name, kind: spec.names.kind, plural: spec.names.plural, namespaced: spec.scope === 'Namespaced' });
      }
      this.setStatus('apiextensions.k8s.io/v1', 'CustomResourceDefinition', crd.metadata.name, undefined, {
        conditions: [
          { type: 'NamesAccepted', status: 'True' },
          { type: 'Established', status: 'True' },
        ],
      });
    };
    if (this.crdDelayMs > 0) setTimeout(done, this.crdDelayMs).unref();
    else done();
  }

  /** Status of a workload whose rollout has finished. */
  rollOut(object: KubeObject, ready = true): void {
    const generation = object.metadata.generation as number;
    const spec = (object.spec ?? {}) as { replicas?: number };
    const replicas = spec.replicas ?? 1;
    const n = ready ? replicas : 0;
    const { namespace, name } = object.metadata;
    switch (object.kind) {
      case 'Deployment':
        this.setStatus('apps/v1', 'Deployment', name, namespace, { observedGeneration: generation, replicas, updatedReplicas: n, readyReplicas: n, availableReplicas: n });
        break;
      case 'StatefulSet':
        this.setStatus('apps/v1', 'StatefulSet', name, namespace, { observedGeneration: generation, replicas, updatedReplicas: n, readyReplicas: n, availableReplicas: n, currentRevision: 'r1', updateRevision: ready ? 'r1' : 'r2' });
        break;
      case 'DaemonSet': {
        const nodes = Math.max(1, this.store.list(this.type('v1', 'Node'), undefined).length);
        const m = ready ? nodes : 0;
        this.setStatus('apps/v1', 'DaemonSet', name, namespace, { observedGeneration: generation, desiredNumberScheduled: nodes, currentNumberScheduled: nodes, updatedNumberScheduled: m, numberReady: m, numberAvailable: m });
        break;
      }
      case 'Job':
        this.setStatus('batch/v1', 'Job', name, namespace, ready ? { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } : { active: 1 });
        break;
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

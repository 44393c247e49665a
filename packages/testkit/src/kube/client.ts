import { request } from 'node:https';

/**
 * A small Kubernetes client for tests: REST calls with a client certificate or token, paths found by discovery. The
 * code under test brings its own client (@kubernetes/client-node); this one seeds objects, sets status as a
 * controller would, and reads results back, without sharing code with what it checks.
 */

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string; uid?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Credentials {
  server: string;
  ca: string;
  /** A client certificate and key, or a bearer token (a ServiceAccount's, to act as that account). */
  cert?: string;
  key?: string;
  token?: string;
}

export interface Response {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

interface Resource {
  name: string;
  namespaced: boolean;
  kind: string;
}

export class KubeError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(what: string, response: Response) {
    super(`${what}: HTTP ${response.status} ${response.body.slice(0, 500)}`);
    this.status = response.status;
    this.body = response.body;
  }
}

export class TestClient {
  readonly credentials: Credentials;
  private readonly discovery = new Map<string, Resource[]>();

  constructor(credentials: Credentials) {
    this.credentials = credentials;
  }

  request(method: string, path: string, body?: string | object, contentType = 'application/json'): Promise<Response> {
    const url = new URL(path, this.credentials.server);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method,
          ca: this.credentials.ca,
          cert: this.credentials.cert,
          key: this.credentials.key,
          headers: {
            accept: 'application/json',
            ...(this.credentials.token ? { authorization: `Bearer ${this.credentials.token}` } : {}),
            ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private async resources(apiVersion: string): Promise<Resource[]> {
    const cached = this.discovery.get(apiVersion);
    if (cached) return cached;
    const response = await this.request('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
    if (response.status !== 200) throw new KubeError(`discovery of ${apiVersion}`, response);
    const list = response.json<{ resources: Resource[] }>().resources.filter((r) => !r.name.includes('/'));
    this.discovery.set(apiVersion, list);
    return list;
  }

  /** The REST path of an object (or of its collection when `name` is omitted). */
  async path(apiVersion: string, kind: string, namespace?: string, name?: string, subresource?: string): Promise<string> {
    let resource = (await this.resources(apiVersion)).find((r) => r.kind === kind);
    if (!resource) {
      this.discovery.delete(apiVersion);
      resource = (await this.resources(apiVersion)).find((r) => r.kind === kind);
    }
    if (!resource) throw new Error(`the API does not serve ${apiVersion} ${kind}`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = resource.namespaced && namespace ? `/namespaces/${namespace}` : '';
    return `${base}${ns}/${resource.name}${name ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}`;
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const response = await this.request('GET', await this.path(apiVersion, kind, namespace, name));
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new KubeError(`get ${kind} ${name}`, response);
    return response.json<KubeObject>();
  }

  async list(apiVersion: string, kind: string, options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {}): Promise<KubeObject[]> {
    const params = new URLSearchParams({ ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}), ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}) }).toString();
    const query = params ? `?${params}` : '';
    const response = await this.request('GET', `${await this.path(apiVersion, kind, options.namespace)}${query}`);
    if (response.status !== 200) throw new KubeError(`list ${kind}`, response);
    // API servers leave apiVersion and kind off the items of a list.
    return response.json<{ items: KubeObject[] }>().items.map((item) => ({ ...item, apiVersion, kind }));
  }

  /** Server-side apply as `manager` (another tool than the code under test, e.g. "kubectl"). */
  async apply(object: KubeObject, manager: string, options: { force?: boolean; subresource?: string } = {}): Promise<KubeObject> {
    const path = await this.path(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name, options.subresource);
    const response = await this.request('PATCH', `${path}?fieldManager=${encodeURIComponent(manager)}${options.force ? '&force=true' : ''}`, object, 'application/apply-patch+yaml');
    if (response.status >= 300) throw new KubeError(`apply ${object.kind} ${object.metadata.name}`, response);
    return response.json<KubeObject>();
  }

  /** A JSON merge patch as `manager`, as `kubectl edit` or `kubectl patch --type=merge` would send it. */
  async mergePatch(apiVersion: string, kind: string, name: string, namespace: string | undefined, patch: object, manager: string, subresource?: string): Promise<KubeObject> {
    const path = await this.path(apiVersion, kind, namespace, name, subresource);
    const response = await this.request('PATCH', `${path}?fieldManager=${encodeURIComponent(manager)}`, patch, 'application/merge-patch+json');
    if (response.status >= 300) throw new KubeError(`patch ${kind} ${name}`, response);
    return response.json<KubeObject>();
  }

  /** Sets part of an object's status, as its controller (or a kubelet) would. */
  setStatus(apiVersion: string, kind: string, name: string, namespace: string | undefined, status: object, manager = 'test-controller'): Promise<KubeObject> {
    return this.mergePatch(apiVersion, kind, name, namespace, { status }, manager, 'status');
  }

  async create(object: KubeObject, manager = 'test'): Promise<KubeObject> {
    const response = await this.request('POST', `${await this.path(object.apiVersion, object.kind, object.metadata.namespace)}?fieldManager=${manager}`, object);
    if (response.status >= 300) throw new KubeError(`create ${object.kind} ${object.metadata.name}`, response);
    return response.json<KubeObject>();
  }

  /** `gracePeriodSeconds: 0` deletes at once, as the kubelet deletes a mirror pod. */
  async delete(apiVersion: string, kind: string, name: string, namespace?: string, options: { gracePeriodSeconds?: number } = {}): Promise<void> {
    const response = await this.request('DELETE', await this.path(apiVersion, kind, namespace, name), { propagationPolicy: 'Background', ...options });
    if (response.status >= 300 && response.status !== 404) throw new KubeError(`delete ${kind} ${name}`, response);
  }

  /** Polls until `probe` gives a value; fails naming `what` and the last value seen. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, pollMs = 200): Promise<T> {
    const started = Date.now();
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

import { createRequire } from 'node:module';
import type { ApisApi, Configuration, HttpMethod, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { describe, gvkOf, type KubeObject } from '../model/object.ts';

// client-node takes about 0.3 s to load: only commands that talk to an API server pay for it, not generate
// and static verify, which import this package for its builders and checks (docs/performance.md).
const require = createRequire(import.meta.url);
type ClientNode = typeof import('@kubernetes/client-node');
let loaded: { client: ClientNode; serializer: { registerModel(gvk: object, model: object): void } } | undefined;
function clientNode(): NonNullable<typeof loaded> {
  loaded ??= {
    client: require('@kubernetes/client-node') as ClientNode,
    serializer: (require('@kubernetes/client-node/dist/serializer.js') as { ObjectSerializer: NonNullable<typeof loaded>['serializer'] }).ObjectSerializer,
  };
  return loaded;
}

/** A KubeConfig (client-node's), loaded on first use. */
export function newKubeConfig(): KubeConfig {
  return new (clientNode().client.KubeConfig)();
}

/**
 * The engine's view of the Kubernetes API, on top of @kubernetes/client-node's KubernetesObjectApi
 * (discovery, URL building, authentication). Objects travel as plain JSON: client-node's typed models
 * would drop fields they do not know and turn timestamps into Dates, so every kind the engine touches
 * is registered with a pass-through serializer.
 */

const passThrough = { serialize: (data: unknown) => data, deserialize: (data: unknown) => data };
const registered = new Set<string>();

function rawModel(apiVersion: string, kind: string): void {
  const { group, version } = gvkOf({ apiVersion, kind });
  for (const k of [kind, `${kind}List`]) {
    const id = `${apiVersion}/${k}`;
    if (registered.has(id)) continue;
    registered.add(id);
    try {
      clientNode().serializer.registerModel({ group, version, kind: k }, passThrough);
    } catch {
      // Already registered by another KubeApi in this process.
    }
  }
}

/** A failed API call with the server's Status: code, reason, message and field causes. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  /** Status causes as the API server sends them (metav1.StatusCause: its type travels as `reason`). */
  readonly causes: Array<{ reason?: string; message?: string; field?: string }>;
  constructor(code: number, reason: string, message: string, causes: KubeApiError['causes'] = []) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.causes = causes;
  }
}

/** client-node throws this (not an HTTP error) when discovery does not list the kind. */
const notServed = (error: unknown) => error instanceof Error && error.message.startsWith('Unrecognized API version and kind');

function toApiError(error: unknown, what: string): unknown {
  if (notServed(error)) return new KubeApiError(404, 'NotServed', `${what}: the API does not serve this kind (is its CRD installed?)`);
  if (!(error instanceof clientNode().client.ApiException)) return error;
  let status: { reason?: string; message?: string; details?: { causes?: KubeApiError['causes'] } } = {};
  try {
    status = typeof error.body === 'string' ? JSON.parse(error.body) : (error.body as typeof status);
  } catch {
    status = { message: String(error.body) };
  }
  return new KubeApiError(error.code, status.reason ?? 'Unknown', `${what}: ${status.message ?? `HTTP ${error.code}`}`, status.details?.causes ?? []);
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export class KubeApi {
  readonly objects: KubernetesObjectApi;
  readonly server: string;
  readonly fieldManager: string;

  private readonly apis: ApisApi;
  private groupVersions: Map<string, string> | undefined;

  /** A client for the kubeconfig in `text` (its current context). */
  static fromKubeconfig(text: string, fieldManager: string): KubeApi {
    const config = newKubeConfig();
    config.loadFromString(text);
    return new KubeApi(config, fieldManager);
  }

  constructor(config: KubeConfig, fieldManager: string) {
    const { client } = clientNode();
    this.objects = client.KubernetesObjectApi.makeApiClient(config);
    this.apis = config.makeApiClient(client.ApisApi);
    this.server = config.getCurrentCluster()?.server ?? '(no server)';
    this.fieldManager = fieldManager;
  }

  /** Whether the API serves this kind now (a custom resource is served once its CRD is Established). */
  async serves(apiVersion: string, kind: string): Promise<{ namespaced: boolean } | undefined> {
    try {
      const resource = await (this.objects as unknown as { resource(v: string, k: string): Promise<{ namespaced: boolean } | undefined> }).resource(apiVersion, kind);
      return resource ? { namespaced: resource.namespaced } : undefined;
    } catch (error) {
      const e = toApiError(error, `${apiVersion} ${kind}`);
      if (e instanceof KubeApiError && e.code === 404) return undefined;
      if (error instanceof Error && /HTTP-Code: 404/.test(error.message)) return undefined;
      throw e;
    }
  }

  /** The version the server prefers for an API group (`v1` for the core group). */
  async preferredVersion(group: string, refresh = false): Promise<string | undefined> {
    if (group === '') return 'v1';
    if (!this.groupVersions || refresh) {
      try {
        const list = await this.apis.getAPIVersions();
        this.groupVersions = new Map(list.groups.map((g) => [g.name, g.preferredVersion?.version ?? g.versions[0]?.version ?? '']));
      } catch (error) {
        throw toApiError(error, 'API discovery');
      }
    }
    return this.groupVersions.get(group) || undefined;
  }

  /**
   * GET through the API server's proxy (`services/<name>:<port>/proxy/<path>`, or `pods/…` for one pod), so
   * live checks reach in-cluster HTTP endpoints without port-forwards. The path (with its query) is sent as
   * written: the generated client would percent-encode its slashes and question mark.
   */
  async proxyGet(namespace: string, service: string, port: number | string, path: string, target: 'services' | 'pods' = 'services'): Promise<{ status: number; body: string }> {
    const configuration = (this.objects as unknown as { configuration: Configuration }).configuration;
    const context = configuration.baseServer.makeRequestContext(`/api/v1/namespaces/${namespace}/${target}/${service}:${port}/proxy${path.startsWith('/') ? path : `/${path}`}`, clientNode().client.HttpMethod.GET);
    await configuration.authMethods.default?.applySecurityAuthentication(context);
    const response = await configuration.httpApi.send(context).toPromise();
    return { status: response.httpStatusCode, body: await response.body.text() };
  }

  /**
   * Sets a workload's replicas through its scale subresource, as `kubectl scale` does, under this API's
   * field manager. A later apply that renders the same count takes the field back without a conflict.
   */
  async scale(ref: ObjectRef, replicas: number): Promise<void> {
    const { group, version } = gvkOf(ref);
    const plural = `${ref.kind.toLowerCase()}s`;
    const path = `/${group ? `apis/${group}` : 'api'}/${version}/namespaces/${ref.metadata.namespace}/${plural}/${ref.metadata.name}/scale?fieldManager=${encodeURIComponent(this.fieldManager)}`;
    const configuration = (this.objects as unknown as { configuration: Configuration }).configuration;
    const context = configuration.baseServer.makeRequestContext(path, clientNode().client.HttpMethod.PATCH);
    context.setHeaderParam('Content-Type', 'application/merge-patch+json');
    context.setBody(JSON.stringify({ spec: { replicas } }));
    await configuration.authMethods.default?.applySecurityAuthentication(context);
    const response = await configuration.httpApi.send(context).toPromise();
    if (response.httpStatusCode >= 300) throw new KubeApiError(response.httpStatusCode, 'ScaleFailed', `${describe(ref)}: scale to ${replicas}: HTTP ${response.httpStatusCode} ${(await response.body.text()).slice(0, 200)}`);
  }

  /**
   * One raw request (a subresource the object API does not cover: eviction, node cordon, /version), with the
   * server's warnings: deprecated APIs announce their removal release in a `Warning` header.
   */
  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string; warnings: string[] }> {
    const configuration = (this.objects as unknown as { configuration: Configuration }).configuration;
    const context = configuration.baseServer.makeRequestContext(path, method as HttpMethod);
    if (body !== undefined) {
      context.setHeaderParam('Content-Type', contentType);
      context.setBody(JSON.stringify(body));
    }
    await configuration.authMethods.default?.applySecurityAuthentication(context);
    const response = await configuration.httpApi.send(context).toPromise();
    const warning = response.headers.warning ?? response.headers.Warning ?? '';
    return { status: response.httpStatusCode, body: await response.body.text(), warnings: warning ? [warning] : [] };
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    rawModel(ref.apiVersion, ref.kind);
    try {
      return (await this.objects.read(ref as never)) as unknown as KubeObject;
    } catch (error) {
      const e = toApiError(error, describe(ref));
      if (e instanceof KubeApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  async list(apiVersion: string, kind: string, options: { namespace?: string; labelSelector?: string } = {}): Promise<KubeObject[]> {
    rawModel(apiVersion, kind);
    try {
      const list = await this.objects.list(apiVersion, kind, options.namespace, undefined, undefined, undefined, undefined, options.labelSelector);
      // API servers leave apiVersion and kind off the items of a list; they are the list's own.
      return ((list.items ?? []) as unknown as KubeObject[]).map((item) => ({ ...item, apiVersion, kind }));
    } catch (error) {
      throw toApiError(error, `list ${apiVersion} ${kind}`);
    }
  }

  /** Server-side apply under this API's field manager. */
  async apply(object: KubeObject, options: { dryRun?: boolean; force?: boolean } = {}): Promise<KubeObject> {
    rawModel(object.apiVersion, object.kind);
    try {
      return (await this.objects.patch(structuredClone(object) as never, undefined, options.dryRun ? 'All' : undefined, this.fieldManager, options.force ?? false, clientNode().client.PatchStrategy.ServerSideApply)) as unknown as KubeObject;
    } catch (error) {
      throw toApiError(error, describe(object));
    }
  }

  async delete(ref: ObjectRef, options: { dryRun?: boolean } = {}): Promise<void> {
    rawModel(ref.apiVersion, ref.kind);
    try {
      await this.objects.delete(ref as never, undefined, options.dryRun ? 'All' : undefined, undefined, undefined, 'Background');
    } catch (error) {
      const e = toApiError(error, describe(ref));
      if (e instanceof KubeApiError && e.code === 404) return;
      throw e;
    }
  }
}

export type { KubeConfig };

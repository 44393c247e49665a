import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isIPv4 } from 'node:net';

/**
 * A STAND-IN for the Docker Engine API, not Docker: an HTTP server on a unix socket implementing only the
 * endpoints `gw-talos docker` uses, as Docker's Engine API v1.54 reference documents them, with the daemon's
 * status codes and messages for the refusals tested (name conflict 409, missing image 404, overlapping subnet
 * 403, port already allocated 500, API version too new 400). It is stricter than the daemon in one way: an
 * unknown or mistyped body field is a 400 here (Go's decoder would ignore or reject it), and it checks what a
 * Talos container needs (privileged, read-only root, the tmpfs and volume mounts). It keeps containers,
 * networks, anonymous volumes and images as state and records every request. No container runs: `onStart`
 * lets a test put a Talos API stand-in behind a started container.
 */

export interface Recorded {
  method: string;
  /** Without the /v1.xx prefix. */
  path: string;
  version?: string;
  query: Record<string, string>;
  body?: unknown;
}

type Json = Record<string, any>;

export interface Container {
  Id: string;
  Name: string;
  Config: Json;
  HostConfig: Json;
  Network: { name: string; ip: string };
  Running: boolean;
  Volumes: string[];
}

interface Network {
  Id: string;
  Name: string;
  Subnet: string;
  Labels: Record<string, string>;
}

class Refusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const TALOS_TMPFS = ['/run', '/system', '/tmp'];
const TALOS_VOLUMES = ['/var', '/system/state', '/etc/cni', '/etc/kubernetes', '/usr/libexec/kubernetes', '/opt'];
const CREATE_FIELDS = ['Hostname', 'Image', 'Env', 'Labels', 'ExposedPorts', 'HostConfig', 'NetworkingConfig', 'Cmd', 'Entrypoint', 'Tty', 'User'];
const HOST_FIELDS = ['Privileged', 'SecurityOpt', 'ReadonlyRootfs', 'NanoCpus', 'Memory', 'Sysctls', 'Mounts', 'PortBindings'];
const NETWORK_FIELDS = ['Name', 'Driver', 'IPAM', 'Options', 'Labels', 'Internal', 'Attachable', 'EnableIPv6'];

const id = () => randomBytes(32).toString('hex');
const ipNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
function inSubnet(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((ipNumber(ip) & mask) >>> 0) === ((ipNumber(base!) & mask) >>> 0);
}
const overlaps = (a: string, b: string) => inSubnet(a.split('/')[0]!, b) || inSubnet(b.split('/')[0]!, a);

function expectType(where: string, value: unknown, type: 'string' | 'number' | 'boolean' | 'object' | 'array'): void {
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (actual !== type) throw new Refusal(400, `json: cannot unmarshal ${actual} into Go struct field ${where} of type ${type}`);
}
function onlyFields(where: string, body: Json, known: string[]): void {
  for (const key of Object.keys(body)) if (!known.includes(key)) throw new Refusal(400, `stand-in: unknown field ${where}.${key}`);
}

export class DockerEngineStandIn {
  readonly socketPath: string;
  readonly requests: Recorded[] = [];
  readonly containers = new Map<string, Container>();
  readonly networks = new Map<string, Network>();
  readonly volumes = new Set<string>();
  readonly images: Set<string>;
  /** What a pull may fetch; anything else fails in the stream, as a registry's "manifest unknown" does. */
  pullable: Set<string>;
  /** The daemon's own API version (what /_ping reports). */
  apiVersion: string;
  onStart: (c: Container) => Promise<void> | void = () => {};
  onRemove: (c: Container) => Promise<void> | void = () => {};
  private readonly server: Server;

  constructor(options: { apiVersion?: string; images?: string[]; pullable?: string[] } = {}) {
    this.socketPath = join(mkdtempSync(join(tmpdir(), 'docker-standin-')), 'docker.sock');
    this.apiVersion = options.apiVersion ?? '1.54';
    this.images = new Set(options.images ?? []);
    this.pullable = new Set(options.pullable ?? []);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests that change something (what a dry run must never send). */
  mutating(): Recorded[] {
    return this.requests.filter((r) => r.method === 'POST' || r.method === 'DELETE');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://docker');
    const versioned = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const record: Recorded = { method: req.method ?? 'GET', path: versioned ? versioned[2]! : url.pathname, query: Object.fromEntries(url.searchParams) };
    if (versioned) record.version = versioned[1]!;
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Api-Version': this.apiVersion, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers });
      res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      if (chunks.length) {
        if (!String(req.headers['content-type']).startsWith('application/json')) throw new Refusal(400, `unsupported Content-Type header (${req.headers['content-type'] ?? ''}): must be 'application/json'`);
        try {
          record.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          throw new Refusal(400, 'invalid JSON: unexpected end of JSON input');
        }
      }
      this.requests.push(record);
      if (record.version && Number(record.version.split('.')[1]) > Number(this.apiVersion.split('.')[1])) {
        throw new Refusal(400, `client version ${record.version} is too new. Maximum supported API version is ${this.apiVersion}`);
      }
      const [status, body] = await this.route(record);
      send(status, body);
    } catch (error) {
      if (error instanceof Refusal) send(error.status, { message: error.message });
      else send(500, { message: (error as Error).message });
    }
  }

  private labelled<T extends { Labels: Record<string, string> }>(items: T[], query: Record<string, string>): T[] {
    const wanted = Object.keys((JSON.parse(query.filters ?? '{}') as Json).label ?? {});
    return items.filter((item) => wanted.every((w) => (w.includes('=') ? item.Labels[w.slice(0, w.indexOf('='))] === w.slice(w.indexOf('=') + 1) : w in item.Labels)));
  }

  private container(ref: string): Container {
    const found = [...this.containers.values()].find((c) => c.Id === ref || c.Name === `/${ref}` || (ref.length >= 12 && c.Id.startsWith(ref)));
    if (!found) throw new Refusal(404, `No such container: ${ref}`);
    return found;
  }

  private summary(c: Container): Json {
    const network = [...this.networks.values()].find((n) => n.Name === c.Network.name);
    const ports = Object.entries((c.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }>>).flatMap(([port, binds]) =>
      binds.map((b) => ({ IP: b.HostIp, PrivatePort: Number(port.split('/')[0]), PublicPort: Number(b.HostPort), Type: port.split('/')[1] })),
    );
    return { Id: c.Id, Names: [c.Name], Image: c.Config.Image, State: c.Running ? 'running' : 'exited', Labels: c.Config.Labels ?? {}, Ports: c.Running ? ports : [], NetworkSettings: { Networks: { [c.Network.name]: { NetworkID: network?.Id ?? '', IPAddress: c.Running ? c.Network.ip : '' } } } };
  }

  private async route(r: Recorded): Promise<[number, unknown?]> {
    const key = `${r.method} ${r.path.replace(/^\/(containers|networks)\/(?!json|create)[^/]+/, '/$1/{id}')}`;
    const ref = r.path.split('/')[2] ?? '';
    const body = (r.body ?? {}) as Json;
    switch (key) {
      case 'HEAD /_ping':
      case 'GET /_ping':
        return [200, r.method === 'GET' ? 'OK' : undefined];
      case 'GET /images/json': {
        const refs = Object.keys((JSON.parse(r.query.filters ?? '{}') as Json).reference ?? {});
        return [200, [...this.images].filter((i) => refs.length === 0 || refs.includes(i)).map((i) => ({ Id: `sha256:${id()}`, RepoTags: [i] }))];
      }
      case 'POST /images/create': {
        const image = `${r.query.fromImage}:${r.query.tag ?? 'latest'}`;
        if (!this.pullable.has(image)) return [200, `{"status":"Pulling from ${r.query.fromImage}"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n`];
        this.images.add(image);
        return [200, `{"status":"Pulling from ${r.query.fromImage}","id":"${r.query.tag}"}\n{"status":"Downloading","progressDetail":{}}\n{"status":"Status: Downloaded newer image for ${image}"}\n`];
      }
      case 'GET /networks':
        return [200, this.labelled([...this.networks.values()], r.query).map((n) => ({ Id: n.Id, Name: n.Name, Driver: 'bridge', Labels: n.Labels, IPAM: { Driver: 'default', Config: [{ Subnet: n.Subnet }] } }))];
      case 'POST /networks/create': {
        onlyFields('NetworkCreateRequest', body, NETWORK_FIELDS);
        expectType('NetworkCreateRequest.Name', body.Name, 'string');
        if ([...this.networks.values()].some((n) => n.Name === body.Name)) throw new Refusal(409, `network with name ${body.Name} already exists`);
        const subnet = body.IPAM?.Config?.[0]?.Subnet as string | undefined;
        if (!subnet || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)) throw new Refusal(400, 'stand-in: IPAM.Config[0].Subnet must be a CIDR');
        if ([...this.networks.values()].some((n) => overlaps(n.Subnet, subnet))) throw new Refusal(403, 'invalid pool request: Pool overlaps with other one on this address space');
        const network: Network = { Id: id(), Name: body.Name, Subnet: subnet, Labels: body.Labels ?? {} };
        this.networks.set(network.Id, network);
        return [201, { Id: network.Id, Warning: '' }];
      }
      case 'DELETE /networks/{id}': {
        const network = [...this.networks.values()].find((n) => n.Id === ref || n.Name === ref);
        if (!network) throw new Refusal(404, `network ${ref} not found`);
        if ([...this.containers.values()].some((c) => c.Network.name === network.Name)) throw new Refusal(403, `error while removing network: network ${network.Name} id ${network.Id} has active endpoints`);
        this.networks.delete(network.Id);
        return [204];
      }
      case 'POST /containers/create':
        return [201, this.create(r.query.name ?? '', body)];
      case 'POST /containers/{id}/start': {
        const c = this.container(ref);
        if (c.Running) return [304];
        for (const [, binds] of Object.entries((c.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }>>)) {
          for (const b of binds) {
            const taken = [...this.containers.values()].some((o) => o.Running && Object.values((o.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }>>).flat().some((ob) => ob.HostPort === b.HostPort && ob.HostIp === b.HostIp));
            if (taken) throw new Refusal(500, `driver failed programming external connectivity on endpoint ${c.Name.slice(1)} (${c.Id.slice(0, 12)}): Bind for ${b.HostIp}:${b.HostPort} failed: port is already allocated`);
          }
        }
        if ([...this.containers.values()].some((o) => o.Running && o.Network.name === c.Network.name && o.Network.ip === c.Network.ip)) throw new Refusal(500, `failed to set up container networking: Address already in use`);
        c.Running = true;
        await this.onStart(c);
        return [204];
      }
      case 'GET /containers/{id}/json': {
        const c = this.container(ref);
        const summary = this.summary(c);
        const ports = Object.fromEntries(Object.entries(c.HostConfig.PortBindings ?? {}).map(([p, binds]) => [p, c.Running ? binds : null]));
        return [200, { Id: c.Id, Name: c.Name, State: { Status: summary.State, Running: c.Running }, Config: c.Config, HostConfig: c.HostConfig, NetworkSettings: { Ports: ports, Networks: summary.NetworkSettings.Networks } }];
      }
      case 'GET /containers/json':
        return [200, this.labelled([...this.containers.values()].map((c) => this.summary(c) as Json & { Labels: Record<string, string> }), r.query).filter((c) => r.query.all === '1' || c.State === 'running')];
      case 'DELETE /containers/{id}': {
        const c = this.container(ref);
        if (c.Running && r.query.force !== '1') throw new Refusal(409, `cannot remove container "${c.Name}": container is running: stop the container before removing or force remove`);
        this.containers.delete(c.Id);
        // Without v=1 the anonymous volumes stay behind, dangling, as they do in Docker.
        if (r.query.v === '1') for (const v of c.Volumes) this.volumes.delete(v);
        await this.onRemove(c);
        return [204];
      }
      default:
        throw new Refusal(404, `page not found (stand-in: ${r.method} ${r.path} is not implemented)`);
    }
  }

  private create(name: string, body: Json): Json {
    if (!/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw new Refusal(400, `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    onlyFields('ContainerCreateRequest', body, CREATE_FIELDS);
    expectType('ContainerCreateRequest.Image', body.Image, 'string');
    expectType('ContainerCreateRequest.Env', body.Env ?? [], 'array');
    for (const e of body.Env ?? []) if (typeof e !== 'string' || !e.includes('=')) throw new Refusal(400, `stand-in: Env entry ${JSON.stringify(e)} is not NAME=value`);
    for (const [k, v] of Object.entries(body.Labels ?? {})) if (typeof v !== 'string') throw new Refusal(400, `json: cannot unmarshal ${typeof v} into Go struct field ContainerCreateRequest.Labels of type string (label ${k})`);
    const host = (body.HostConfig ?? {}) as Json;
    onlyFields('HostConfig', host, HOST_FIELDS);
    if (host.Privileged !== undefined) expectType('HostConfig.Privileged', host.Privileged, 'boolean');
    for (const field of ['NanoCpus', 'Memory']) if (host[field] !== undefined) expectType(`HostConfig.${field}`, host[field], 'number');
    for (const m of (host.Mounts ?? []) as Json[]) {
      if (!['bind', 'volume', 'tmpfs'].includes(m.Type)) throw new Refusal(400, `invalid mount config: mount type unknown: ${m.Type}`);
      if (typeof m.Target !== 'string' || !m.Target.startsWith('/')) throw new Refusal(400, `invalid mount config for type "${m.Type}": invalid mount path: '${m.Target}' mount path must be absolute`);
      if (m.Type === 'tmpfs' && m.Source) throw new Refusal(400, 'invalid mount config for type "tmpfs": field Source must not be specified');
    }
    const targets = (type: string) => ((host.Mounts ?? []) as Json[]).filter((m) => m.Type === type).map((m) => m.Target);
    const missing = [...TALOS_TMPFS.filter((t) => !targets('tmpfs').includes(t)), ...TALOS_VOLUMES.filter((t) => !targets('volume').includes(t))];
    if (host.Privileged && (missing.length || !host.ReadonlyRootfs)) throw new Refusal(400, `stand-in: a Talos container needs a read-only root and mounts at ${missing.join(', ') || '(all present)'}`);
    if (!this.images.has(body.Image)) throw new Refusal(404, `No such image: ${body.Image}`);
    const existing = [...this.containers.values()].find((c) => c.Name === `/${name.replace(/^\//, '')}`);
    if (existing) throw new Refusal(409, `Conflict. The container name "/${name}" is already in use by container "${existing.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const endpoints = Object.entries((body.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, Json>);
    if (endpoints.length !== 1) throw new Refusal(400, 'stand-in: exactly one network endpoint is supported');
    const [netName, endpoint] = endpoints[0]!;
    const network = [...this.networks.values()].find((n) => n.Name === netName || n.Id === netName);
    if (!network) throw new Refusal(404, `network ${netName} not found`);
    const ip = endpoint.IPAMConfig?.IPv4Address as string;
    if (!isIPv4(ip ?? '')) throw new Refusal(400, 'stand-in: IPAMConfig.IPv4Address is required here (no address allocation)');
    if (!inSubnet(ip, network.Subnet)) throw new Refusal(400, `no configured subnet or ip-range contain the IP address ${ip}`);
    for (const [port] of Object.entries(host.PortBindings ?? {})) if (!(port in (body.ExposedPorts ?? {}))) throw new Refusal(400, `stand-in: port ${port} is bound but not exposed`);
    const c: Container = { Id: id(), Name: `/${name}`, Config: { ...body, HostConfig: undefined, NetworkingConfig: undefined }, HostConfig: host, Network: { name: network.Name, ip }, Running: false, Volumes: targets('volume').map(() => id()) };
    for (const v of c.Volumes) this.volumes.add(v);
    this.containers.set(c.Id, c);
    return { Id: c.Id, Warnings: [] };
  }
}

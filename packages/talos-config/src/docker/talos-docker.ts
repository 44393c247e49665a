import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProblemList, UserError, renderedDir, type Logger } from '@groundwork/kit';
import { controlPlanes, nodeCapacity, workers, type Cluster, type ClusterNode, type LoadedCluster } from '@groundwork/cluster';
import { LAYER } from '../cluster-render.ts';
import { nodeImages } from '../config/platform.ts';
import { PORTS } from '../versions.ts';
import { filters, type DockerEngine } from './engine.ts';

/**
 * Talos in Docker the way talosctl's Docker provider (siderolabs/talos pkg/provision/providers/docker) does it,
 * through the Engine API: a labelled network, one privileged container per node from the pinned Talos image
 * with the node's rendered config in USERDATA, anonymous volumes for Talos's writable paths. Unlike talosctl,
 * host ports are not random: they follow from the cluster file (hostPorts below), so the kubeconfig and the
 * Talos API stay at the same address across `down` and `up`.
 */

/** The labels talosctl puts on what it creates (so `talosctl cluster destroy` also finds ours), and our own. */
export const LABELS = { owned: 'talos.owned', cluster: 'talos.cluster.name', type: 'talos.type', groundwork: 'groundwork.dev/cluster' } as const;

/** talosctl's defaults for a node without a size (`--cpus 2 --memory 2048`). */
export const DEFAULT_SIZE = { cpu: 2, memoryBytes: 2 * 1024 ** 3 };

/** Node i of cluster.yaml (0-based) publishes its Talos API (50000) on 127.0.0.1:TALOS_API_HOST_PORT + i. */
export const TALOS_API_HOST_PORT = 50000;

const TMPFS = ['/run', '/system', '/tmp'];
const VOLUMES = ['/var', '/system/state', '/etc/cni', '/etc/kubernetes', '/usr/libexec/kubernetes', '/opt'];

export interface NodePlan {
  node: ClusterNode;
  /** POST /containers/create body. */
  body: Record<string, unknown>;
  /** Host port of the node's Talos API. */
  talosPort: number;
}

export interface DockerPlan {
  cluster: string;
  image: string;
  network: { name: string; body: Record<string, unknown> };
  nodes: NodePlan[];
}

export const clusterFilter = (cluster: string) => filters('label', [`${LABELS.cluster}=${cluster}`, `${LABELS.owned}=true`]);

export const networkName = (cluster: string) => `talos-${cluster}`;

/** Host ports: every node's Talos API at 50000 + its index; the first control plane's 6443 at kubeconfigEndpoint's port. */
export function hostPorts(cluster: Cluster, node: ClusterNode): Record<string, number> {
  const ports: Record<string, number> = { [`${PORTS.apid}/tcp`]: TALOS_API_HOST_PORT + cluster.nodes.indexOf(node) };
  if (node === controlPlanes(cluster)[0]) ports[`${PORTS.kubernetes}/tcp`] = Number(new URL(cluster.kubeconfigEndpoint!).port || 443);
  return ports;
}

/** Everything `up` would ask Docker for, from the cluster file and the rendered configs; refuses a cluster it cannot run. */
export function dockerPlan(root: string, loaded: LoadedCluster): DockerPlan {
  const cluster = loaded.config;
  const problems: string[] = [];
  cluster.nodes.forEach((n, i) => {
    if (n.platform !== 'docker') problems.push(`nodes[${i}] (${n.name}) has platform: ${n.platform}; gw-talos docker runs only clusters whose nodes all have platform: docker`);
  });
  if (!cluster.kubeconfigEndpoint) problems.push('kubeconfigEndpoint is not set: it says which host port publishes the API (e.g. https://127.0.0.1:6444)');
  const dir = renderedDir(root, cluster.name, LAYER);
  const missing = cluster.nodes.filter((n) => !existsSync(join(dir, 'nodes', `${n.name}.yaml`)));
  if (missing.length) problems.push(`rendered/${LAYER}/nodes/{${missing.map((n) => n.name).join(',')}}.yaml missing: run npx nx run talos-config:generate --cluster=${cluster.name}`);
  if (problems.length) throw new ProblemList(`${cluster.name} cannot run in Docker:`, problems);

  const network = networkName(cluster.name);
  const labels = { [LABELS.owned]: 'true', [LABELS.cluster]: cluster.name };
  const ordered = [...controlPlanes(cluster), ...workers(cluster)];
  const image = nodeImages(cluster, ordered[0]!).bootMedia;
  const nodes = ordered.map((node): NodePlan => {
    const size = nodeCapacity(node) ?? DEFAULT_SIZE;
    const ports = hostPorts(cluster, node);
    const userdata = readFileSync(join(dir, 'nodes', `${node.name}.yaml`)).toString('base64');
    const body = {
      Hostname: node.name,
      Image: image,
      Env: ['PLATFORM=container', `TALOSSKU=${size.cpu}CPU-${Math.round(size.memoryBytes / 1024 ** 2)}RAM`, `USERDATA=${userdata}`],
      Labels: { ...labels, [LABELS.type]: node.role, [LABELS.groundwork]: cluster.name },
      ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])),
      HostConfig: {
        Privileged: true,
        SecurityOpt: ['seccomp:unconfined'],
        ReadonlyRootfs: true,
        NanoCpus: Math.round(size.cpu * 1e9),
        Memory: size.memoryBytes,
        Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0' },
        // Anonymous volumes (no Source): `down` removes them with the container (v=1).
        Mounts: [...TMPFS.map((Target) => ({ Type: 'tmpfs', Target })), ...VOLUMES.map((Target) => ({ Type: 'volume', Target }))],
        PortBindings: Object.fromEntries(Object.entries(ports).map(([p, host]) => [p, [{ HostIp: '127.0.0.1', HostPort: String(host) }]])),
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { NetworkID: network, IPAMConfig: { IPv4Address: node.ip } } } },
    };
    return { node, body, talosPort: ports[`${PORTS.apid}/tcp`]! };
  });
  const networkBody = {
    Name: network,
    Driver: '', // the daemon's default, bridge
    IPAM: { Driver: '', Options: null, Config: [{ Subnet: cluster.network.nodeCidr, Gateway: cluster.network.gateway }] },
    Options: { 'com.docker.network.driver.mtu': String(cluster.network.mtu ?? 1500) },
    Labels: labels,
  };
  return { cluster: cluster.name, image, network: { name: network, body: networkBody }, nodes };
}

export type NodeAction = 'created' | 'started' | 'running' | 'would create' | 'would start';

export interface UpReport {
  image: 'present' | 'pulled' | 'would pull';
  network: 'created' | 'reused' | 'would create';
  nodes: Record<string, NodeAction>;
  /** Node IP to the host port of its Talos API, as Docker reports it (the plan's in a dry run). */
  talosPorts: Map<string, number>;
}

interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels?: Record<string, string>;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

interface NetworkSummary {
  Id: string;
  Name: string;
  IPAM?: { Config?: Array<{ Subnet?: string }> };
}

const nameOf = (c: ContainerSummary) => (c.Names[0] ?? c.Id).replace(/^\//, '');

export const listContainers = async (engine: DockerEngine, cluster: string) =>
  (await engine.call<ContainerSummary[]>(`listing ${cluster}'s containers`, { method: 'GET', path: '/containers/json', query: { all: 1, filters: clusterFilter(cluster) } })).body;

const listNetworks = async (engine: DockerEngine, cluster: string) =>
  (await engine.call<NetworkSummary[]>(`listing ${cluster}'s networks`, { method: 'GET', path: '/networks', query: { filters: clusterFilter(cluster) } })).body;

/** Brings the containers to the plan; idempotent: a running container is left alone, a stopped one started. */
export async function dockerUp(engine: DockerEngine, plan: DockerPlan, options: { dryRun: boolean; log: Logger }): Promise<UpReport> {
  const { dryRun, log } = options;
  const report: UpReport = { image: 'present', network: 'reused', nodes: {}, talosPorts: new Map() };
  const images = (await engine.call<unknown[]>(`looking for ${plan.image}`, { method: 'GET', path: '/images/json', query: { filters: filters('reference', [plan.image]) } })).body;
  if (images.length === 0) {
    report.image = dryRun ? 'would pull' : 'pulled';
    if (dryRun) log.info(`would pull ${plan.image}`);
    else await log.progress(`pulling ${plan.image}`, () => engine.pull(plan.image, (status) => log.info(`${plan.image}: ${status}`)));
  }

  const subnet = (plan.network.body.IPAM as { Config: Array<{ Subnet: string }> }).Config[0]!.Subnet;
  const network = (await listNetworks(engine, plan.cluster))[0];
  if (network) {
    const existing = network.IPAM?.Config?.[0]?.Subnet;
    if (existing !== subnet) throw new UserError(`Docker network ${network.Name} of ${plan.cluster} has subnet ${existing ?? 'none'}, but network.nodeCidr is ${subnet}`, { hint: `remove the old one first: gw-talos docker down --cluster=${plan.cluster}` });
    log.info(`network ${network.Name} (${subnet}) exists`);
  } else if (dryRun) {
    report.network = 'would create';
    log.info(`would create network ${plan.network.name} (${subnet})`);
  } else {
    await engine.call(`creating network ${plan.network.name}`, { method: 'POST', path: '/networks/create', body: plan.network.body });
    report.network = 'created';
    log.ok(`network ${plan.network.name} (${subnet}) created`);
  }

  const containers = new Map((await listContainers(engine, plan.cluster)).map((c) => [nameOf(c), c]));
  for (const { node, body, talosPort } of plan.nodes) {
    const existing = containers.get(node.name);
    const running = existing?.State === 'running';
    let id = existing?.Id;
    if (running) log.info(`${node.name}: already running, left alone`);
    else if (dryRun) log.info(`${node.name}: would ${existing ? 'start the stopped container' : `create a ${node.role} container at ${node.ip}`}, Talos API on 127.0.0.1:${talosPort}`);
    else {
      if (!id) id = (await engine.call<{ Id: string }>(`creating container ${node.name}`, { method: 'POST', path: '/containers/create', query: { name: node.name }, body })).body.Id;
      await engine.call(`starting container ${node.name}`, { method: 'POST', path: `/containers/${id}/start` });
      log.ok(`${node.name}: ${existing ? 'started' : 'created and started'} (${node.ip}, Talos API on 127.0.0.1:${talosPort})`);
    }
    report.nodes[node.name] = running ? 'running' : dryRun ? (existing ? 'would start' : 'would create') : existing ? 'started' : 'created';
    if (dryRun || !id) report.talosPorts.set(node.ip, talosPort);
    else {
      // What Docker actually published, which is what the Talos API calls must use.
      const inspected = (await engine.call<{ NetworkSettings?: { Ports?: Record<string, Array<{ HostPort: string }> | null> } }>(`inspecting container ${node.name}`, { method: 'GET', path: `/containers/${id}/json` })).body;
      const published = inspected.NetworkSettings?.Ports?.[`${PORTS.apid}/tcp`]?.[0]?.HostPort;
      if (!published) throw new UserError(`${node.name}: Docker reports no host port for its Talos API (${PORTS.apid}/tcp); remove it with gw-talos docker down --cluster=${plan.cluster} and run up again`);
      report.talosPorts.set(node.ip, Number(published));
    }
  }
  const planned = new Set(plan.nodes.map((n) => n.node.name));
  for (const name of containers.keys()) if (!planned.has(name)) log.warn(`${name}: a container of ${plan.cluster} that cluster.yaml no longer lists; left alone (down removes it)`);
  return report;
}

/** Removes the cluster's containers with their anonymous volumes, then its network. Nothing under clusters/ is touched. */
export async function dockerDown(engine: DockerEngine, cluster: string, options: { dryRun: boolean; log: Logger }): Promise<{ containers: string[]; networks: string[] }> {
  const { dryRun, log } = options;
  const containers = await listContainers(engine, cluster);
  for (const c of containers) {
    if (dryRun) log.info(`would remove container ${nameOf(c)} (${c.State}) and its volumes`);
    else {
      await engine.call(`removing container ${nameOf(c)}`, { method: 'DELETE', path: `/containers/${c.Id}`, query: { force: 1, v: 1 } });
      log.ok(`container ${nameOf(c)} and its volumes removed`);
    }
  }
  const networks = await listNetworks(engine, cluster);
  for (const n of networks) {
    if (dryRun) log.info(`would remove network ${n.Name}`);
    else {
      await engine.call(`removing network ${n.Name}`, { method: 'DELETE', path: `/networks/${n.Id}` });
      log.ok(`network ${n.Name} removed`);
    }
  }
  return { containers: containers.map(nameOf), networks: networks.map((n) => n.Name) };
}

export interface NodeStatus {
  name: string;
  /** Docker's state (running, exited, …), or `missing` for a node of cluster.yaml without a container. */
  state: string;
  ip?: string;
  /** `127.0.0.1:6444->6443/tcp`, as docker ps shows them. */
  ports: string[];
  talosPort?: number;
}

export interface DockerStatus {
  network?: { name: string; subnet?: string };
  nodes: NodeStatus[];
}

/** The cluster's containers (and nodes without one), their state, address and published ports. */
export async function dockerStatus(engine: DockerEngine, cluster: Cluster): Promise<DockerStatus> {
  const containers = new Map((await listContainers(engine, cluster.name)).map((c) => [nameOf(c), c]));
  const network = (await listNetworks(engine, cluster.name))[0];
  const names = [...new Set([...cluster.nodes.map((n) => n.name), ...containers.keys()])];
  const nodes = names.map((name): NodeStatus => {
    const c = containers.get(name);
    if (!c) return { name, state: 'missing', ports: [] };
    const ports = (c.Ports ?? []).filter((p) => p.PublicPort).sort((a, b) => a.PrivatePort - b.PrivatePort);
    const ip = Object.values(c.NetworkSettings?.Networks ?? {})[0]?.IPAddress || undefined;
    const talos = ports.find((p) => p.PrivatePort === PORTS.apid)?.PublicPort;
    return { name, state: c.State, ...(ip ? { ip } : {}), ports: ports.map((p) => `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`), ...(talos ? { talosPort: talos } : {}) };
  });
  return { ...(network ? { network: { name: network.Name, ...(network.IPAM?.Config?.[0]?.Subnet ? { subnet: network.IPAM.Config[0].Subnet } : {}) } } : {}), nodes };
}

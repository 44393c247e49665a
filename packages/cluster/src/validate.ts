import type { Cluster } from './schema.ts';
import { cidrContains, cidrsOverlap, isCanonical, canonicalText, isUsableHost, parseCidr, parseIPv4, type Cidr } from './ipv4.ts';
import { compareVersions, parseVersion, supportedTalosLines, talosLineFor } from './versions.ts';
import { checkLocalStorage } from './local-storage.ts';
import { checkAddressRanges, checkClaims, checkEgress, checkNodeLabels, checkRecipients } from './limits.ts';
import { grafanaHost, n8nHost } from './derive.ts';

export interface Finding {
  /** Field path in the cluster file, e.g. nodes[2].ip. */
  path: string;
  message: string;
}

export interface CrossFieldResult {
  errors: Finding[];
  warnings: Finding[];
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** Rules that need more than one field. The schema has already checked each field on its own. */
export function crossValidate(cluster: Cluster, folderName?: string): CrossFieldResult {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const error = (path: string, message: string) => errors.push({ path, message });
  const { network, nodes } = cluster;

  if (folderName !== undefined && cluster.name !== folderName) {
    error('name', `"${cluster.name}" does not match its folder clusters/${folderName}/ (the folder name is the cluster name)`);
  }

  checkVersions(cluster, error);

  const nodeCidr = parseCidr(network.nodeCidr) as Cidr;
  const cidrs: Array<[string, Cidr]> = [
    ['network.nodeCidr', nodeCidr],
    ['network.podCidr', parseCidr(network.podCidr) as Cidr],
    ['network.serviceCidr', parseCidr(network.serviceCidr) as Cidr],
  ];
  for (const [path, cidr] of cidrs) {
    if (!isCanonical(cidr)) error(path, `${cidr.text} has host bits set; write the network address ${canonicalText(cidr)}`);
  }
  for (let i = 0; i < cidrs.length; i++) {
    for (let j = i + 1; j < cidrs.length; j++) {
      const [pathA, a] = cidrs[i]!;
      const [pathB, b] = cidrs[j]!;
      if (cidrsOverlap(a, b)) error(pathB, `${b.text} overlaps ${pathA} ${a.text}`);
    }
  }

  const inNodeCidr = (path: string, text: string, what: string) => {
    const address = parseIPv4(text) as number;
    if (!cidrContains(nodeCidr, address)) error(path, `${text} is outside network.nodeCidr ${network.nodeCidr}`);
    else if (!isUsableHost(nodeCidr, address)) error(path, `${text} is the network or broadcast address of ${network.nodeCidr} and cannot be ${what}`);
  };

  const byName = new Map<string, number>();
  const byIp = new Map<string, number>();
  nodes.forEach((node, i) => {
    const prev = byName.get(node.name);
    if (prev !== undefined) error(`nodes[${i}].name`, `"${node.name}" is already used by nodes[${prev}]`);
    else byName.set(node.name, i);
    const prevIp = byIp.get(node.ip);
    if (prevIp !== undefined) error(`nodes[${i}].ip`, `${node.ip} is already used by nodes[${prevIp}] (${nodes[prevIp]!.name})`);
    else byIp.set(node.ip, i);
    inNodeCidr(`nodes[${i}].ip`, node.ip, 'a node address');
    checkNodePlatform(cluster, i, error);
  });

  inNodeCidr('network.gateway', network.gateway, 'the gateway');
  const gatewayNode = byIp.get(network.gateway);
  if (gatewayNode !== undefined) error('network.gateway', `${network.gateway} is also the address of nodes[${gatewayNode}] (${nodes[gatewayNode]!.name})`);

  if (network.vip) {
    inNodeCidr('network.vip.address', network.vip.address, 'the VIP');
    const vipNode = byIp.get(network.vip.address);
    if (vipNode !== undefined) {
      error('network.vip.address', `${network.vip.address} is the address of nodes[${vipNode}] (${nodes[vipNode]!.name}); the VIP must be a free address`);
    }
    if (network.vip.address === network.gateway) error('network.vip.address', `${network.vip.address} is the gateway; the VIP must be a free address`);
  }

  const controlPlanes = nodes.filter((n) => n.role === 'controlplane');
  if (controlPlanes.length === 0) {
    error('nodes', 'no node has role: controlplane; a cluster needs at least one control plane');
  } else if (controlPlanes.length % 2 === 0) {
    const n = controlPlanes.length;
    const tolerated = n / 2 - 1;
    warnings.push({
      path: 'nodes',
      message:
        `${n} control planes is an even number: etcd needs a majority (${n / 2 + 1} of ${n}), so it tolerates ` +
        `${tolerated === 0 ? 'no failure' : `${tolerated} failure${tolerated === 1 ? '' : 's'}`}, the same as ${n - 1} member${n - 1 === 1 ? '' : 's'} ` +
        `with one more machine that can break it; use an odd number (1 or 3)`,
    });
  }
  if (controlPlanes.length > 1 && !network.vip && !cluster.endpoint) {
    error('endpoint', `required when ${controlPlanes.length} control planes share the API and there is no network.vip (point it at a load balancer or DNS name)`);
  }

  const dockerNodes = nodes.filter((n) => n.platform === 'docker').length;
  if (dockerNodes > 0 && dockerNodes < nodes.length) {
    error('nodes', 'docker nodes cannot be mixed with other platforms in one cluster');
  }
  if (network.vip && dockerNodes > 0) error('network.vip', 'a Layer 2 VIP is not available to Talos running in Docker');

  checkLoadBalancer(cluster, byIp, inNodeCidr, error);
  checkAlerting(cluster, error);
  checkN8n(cluster, error);
  checkDr(cluster, error);
  checkLocalStorage(cluster, error, (path, message) => warnings.push({ path, message }));
  checkAddressRanges(cluster, error);
  checkNodeLabels(cluster, error);
  checkClaims(cluster, { n8n: n8nHost(cluster), grafana: grafanaHost(cluster) }, error);
  checkEgress(cluster, error);
  checkRecipients(cluster, error);

  if (cluster.sops.age.length === 0 && cluster.sops.pgp.length === 0) {
    error('sops', 'needs at least one age recipient or PGP fingerprint, or nobody can decrypt this cluster\'s secrets');
  }
  const seen = new Set<string>();
  cluster.sops.age.forEach((recipient, i) => {
    if (seen.has(recipient)) error(`sops.age[${i}]`, 'duplicate recipient');
    seen.add(recipient);
  });

  return { errors, warnings };
}

function checkLoadBalancer(
  cluster: Cluster,
  byIp: Map<string, number>,
  inNodeCidr: (path: string, text: string, what: string) => void,
  error: (path: string, message: string) => void,
): void {
  const { network, nodes, features } = cluster;
  const lbIp = features.ingress.loadBalancerIp;
  const pool = network.loadBalancerPool;
  const announced = features.cilium.enabled && features.cilium.kubeProxyReplacement;
  const taken = (path: string, address: string) => {
    const node = byIp.get(address);
    if (node !== undefined) error(path, `${address} is the address of nodes[${node}] (${nodes[node]!.name})`);
    if (network.vip?.address === address) error(path, `${address} is the API VIP`);
    if (network.gateway === address) error(path, `${address} is the gateway`);
  };
  if (lbIp !== undefined) {
    taken('features.ingress.loadBalancerIp', lbIp);
    if (!announced) error('features.ingress.loadBalancerIp', 'needs Cilium with kubeProxyReplacement: its L2 announcements are what answer for LoadBalancer addresses');
  }
  if (!pool) return;
  if (!announced) error('network.loadBalancerPool', 'needs Cilium with kubeProxyReplacement: its L2 announcements are what answer for LoadBalancer addresses');
  inNodeCidr('network.loadBalancerPool.start', pool.start, 'a LoadBalancer address');
  inNodeCidr('network.loadBalancerPool.stop', pool.stop, 'a LoadBalancer address');
  const start = parseIPv4(pool.start) as number;
  const stop = parseIPv4(pool.stop) as number;
  if (start > stop) {
    error('network.loadBalancerPool.stop', `${pool.stop} comes before start ${pool.start}`);
    return;
  }
  const inside = (address: string) => {
    const value = parseIPv4(address) as number;
    return value >= start && value <= stop;
  };
  nodes.forEach((node, i) => {
    if (inside(node.ip)) error('network.loadBalancerPool', `${pool.start}-${pool.stop} contains nodes[${i}].ip ${node.ip} (${node.name})`);
  });
  if (inside(network.gateway)) error('network.loadBalancerPool', `${pool.start}-${pool.stop} contains the gateway ${network.gateway}`);
  if (network.vip && inside(network.vip.address)) error('network.loadBalancerPool', `${pool.start}-${pool.stop} contains the API VIP ${network.vip.address}`);
  if (lbIp !== undefined && !inside(lbIp)) error('features.ingress.loadBalancerIp', `${lbIp} is outside network.loadBalancerPool ${pool.start}-${pool.stop}`);
}

function checkAlerting(cluster: Cluster, error: (path: string, message: string) => void): void {
  const { receivers, route } = cluster.features.observability.alerting;
  const names = new Map<string, number>();
  receivers.forEach((receiver, i) => {
    const kinds = (['email', 'slack', 'webhook', 'ntfy'] as const).filter((k) => receiver[k] !== undefined);
    if (kinds.length !== 1) error(`features.observability.alerting.receivers[${i}]`, `needs exactly one of email, slack, webhook or ntfy (found ${kinds.length ? kinds.join(', ') : 'none'})`);
    if (receiver.name === 'none' || receiver.name === 'heartbeat') error(`features.observability.alerting.receivers[${i}].name`, `"${receiver.name}" is reserved (the Watchdog's receivers); choose another name`);
    if (names.has(receiver.name)) error(`features.observability.alerting.receivers[${i}].name`, `"${receiver.name}" is already used by receivers[${names.get(receiver.name)}]`);
    names.set(receiver.name, i);
    const ntfy = receiver.ntfy;
    if (ntfy && !ntfy.token && !ntfy.public) {
      error(`features.observability.alerting.receivers[${i}].ntfy`, `topic ${ntfy.topic} has no access token, so anyone who guesses its name reads your alerts: set token: true (its value is the SOPS secret key ${receiver.name}-token), or public: true if the topic is meant to be public`);
    }
    if (ntfy?.token && ntfy.public) error(`features.observability.alerting.receivers[${i}].ntfy`, 'token and public exclude each other');
  });
  for (const key of ['receiver', 'critical'] as const) {
    const name = route[key];
    if (name !== undefined && !names.has(name)) error(`features.observability.alerting.route.${key}`, `no receiver is named ${name}${receivers.length ? ` (receivers: ${receivers.map((r) => r.name).join(', ')})` : ''}`);
  }
}

function checkN8n(cluster: Cluster, error: (path: string, message: string) => void): void {
  const { n8n, ingress } = cluster.features;
  if (!n8n.enabled) return;
  if (!ingress.enabled) error('features.n8n.enabled', 'n8n is served through the Ingress: features.ingress.enabled must be true');
  if (!isTimeZone(n8n.timezone)) error('features.n8n.timezone', `"${n8n.timezone}" is not an IANA time zone (such as UTC or Europe/Berlin)`);
}

function checkDr(cluster: Cluster, error: (path: string, message: string) => void): void {
  const { dr } = cluster.features;
  if (!dr.enabled) return;
  if (!dr.s3 && !dr.volume) error('features.dr', 'backups need somewhere to go: set s3 (a bucket, off-site) or volume, or both');
  if (cluster.sops.age.length === 0) error('features.dr', 'backups are encrypted to the cluster\'s age recipients, and sops.age lists none');
  const { last, daily, weekly, monthly } = dr.retention;
  if (last + daily + weekly + monthly === 0) error('features.dr.retention', 'keeps nothing: every backup would be deleted right after it is taken');
}

/** An IANA zone name the runtime knows (n8n's date libraries read the same database); offsets are not zones. */
function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z_]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function checkVersions(cluster: Cluster, error: (path: string, message: string) => void): void {
  const talos = cluster.versions.talos;
  const line = talosLineFor(talos);
  if (!line) {
    const supported = supportedTalosLines.map((l) => `${l.contract}.x`).join(', ');
    error('versions.talos', `${talos} is not a supported Talos version (supported: ${supported})`);
    return;
  }
  const kube = parseVersion(cluster.versions.kubernetes);
  const min = parseVersion(line.kubernetesMin)!;
  const max = parseVersion(line.kubernetesMax)!;
  if (kube && (compareVersions(kube, min) < 0 || compareVersions(kube, max) > 0)) {
    error(
      'versions.kubernetes',
      `${cluster.versions.kubernetes} is outside the range Talos ${line.contract} supports (${line.kubernetesMin} to ${line.kubernetesMax.replace(/\.99$/, '.x')})`,
    );
  }
}

function checkNodePlatform(cluster: Cluster, i: number, error: (path: string, message: string) => void): void {
  const node = cluster.nodes[i]!;
  const at = `nodes[${i}]`;
  if (node.platform === 'rpi4' && node.arch === 'amd64') error(`${at}.arch`, 'a Raspberry Pi 4 is arm64');
  if (node.installDisk && node.installDiskSelector) error(`${at}.installDiskSelector`, 'set installDisk or installDiskSelector, not both');
  if (node.platform === 'docker') {
    if (node.installDisk || node.installDiskSelector) error(`${at}.installDisk`, 'Talos in Docker has no install disk; remove it');
  } else if (node.platform === 'metal' && !node.installDisk && !node.installDiskSelector) {
    error(`${at}.installDisk`, 'required for metal nodes (or give installDiskSelector)');
  }
  if (node.platform === 'metal' && !node.link && !node.mac) error(`${at}.link`, 'required for metal nodes (or give mac)');
}

import type { Cluster } from './schema.ts';
import { cidrsOverlap, parseCidr } from './ipv4.ts';

/**
 * Limits Kubernetes and Talos impose that a field on its own does not show: the sizes of the address ranges,
 * the labels a kubelet may set on its own node, names two features would both claim, egress that would open
 * the cluster's own ranges, and recipients whose checksum is wrong. Each is an error with its field and reason.
 */

type Report = (path: string, message: string) => void;

/** The per-node pod range the controller-manager hands out (--node-cidr-mask-size, IPv4 default). */
export const NODE_POD_MASK = 24;

export function checkAddressRanges(cluster: Cluster, error: Report): void {
  const pods = parseCidr(cluster.network.podCidr);
  const services = parseCidr(cluster.network.serviceCidr);
  if (pods) {
    const ranges = pods.prefix > NODE_POD_MASK ? 0 : 2 ** (NODE_POD_MASK - pods.prefix);
    if (ranges < cluster.nodes.length) {
      error(
        'network.podCidr',
        `${pods.text} holds ${ranges} per-node /${NODE_POD_MASK} range${ranges === 1 ? '' : 's'} (the controller-manager gives each node one), fewer than the ${cluster.nodes.length} nodes; use /${Math.max(8, NODE_POD_MASK - Math.ceil(Math.log2(cluster.nodes.length)))} or wider`,
      );
    }
  }
  if (services) {
    // kube-apiserver refuses a service range of more than 2^20 addresses, and the cluster DNS takes the 10th.
    if (services.prefix < 12) error('network.serviceCidr', `${services.text} is larger than kube-apiserver accepts (at most /12, 1,048,576 addresses)`);
    if (services.prefix > 28) error('network.serviceCidr', `${services.text} is too small: the API server takes the 1st address and the cluster DNS the 10th; use /28 or wider`);
  }
}

/**
 * NodeRestriction: a kubelet may label its own node only outside kubernetes.io and k8s.io, or with these keys
 * and prefixes. Talos applies a worker's nodeLabels with the worker's own credentials, so anything else is refused
 * at join time (Talos documents this for machine.nodeLabels).
 */
const KUBELET_LABEL_KEYS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
]);
const KUBELET_LABEL_PREFIXES = ['kubelet.kubernetes.io/', 'node.kubernetes.io/'];

export function kubeletMaySetLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return true;
  const domain = key.slice(0, slash);
  if (domain === 'node-restriction.kubernetes.io' || domain.endsWith('.node-restriction.kubernetes.io')) return false;
  const reserved = ['kubernetes.io', 'k8s.io'].some((d) => domain === d || domain.endsWith(`.${d}`));
  return !reserved || KUBELET_LABEL_KEYS.has(key) || KUBELET_LABEL_PREFIXES.some((p) => key.startsWith(p));
}

export function checkNodeLabels(cluster: Cluster, error: Report): void {
  cluster.nodes.forEach((node, i) => {
    if (node.role !== 'worker') return;
    for (const key of Object.keys(node.labels)) {
      if (kubeletMaySetLabel(key)) continue;
      const hint = key.startsWith('node-role.kubernetes.io/') ? '; node roles are shown by `kubectl get nodes` from labels an administrator sets (kubectl label node)' : '';
      error(`nodes[${i}].labels.${key}`, `a worker's kubelet may not set labels under ${key.slice(0, key.indexOf('/'))} (Kubernetes' NodeRestriction admission), so the node would be refused this label; use your own prefix such as groundwork.dev/${hint}`);
    }
  });
}

/**
 * Namespaces the layers create for themselves (the layer tests check their own are listed here): a feature
 * told to use one of them would share its policies and its prune set.
 */
export const CLAIMED_NAMESPACES: Readonly<Record<string, string>> = {
  'kube-system': 'Kubernetes',
  'kube-public': 'Kubernetes',
  'kube-node-lease': 'Kubernetes',
  default: 'Kubernetes',
  cilium: 'platform-core (Cilium)',
  cloudflared: 'platform-core (Cloudflare tunnel)',
  'metrics-server': 'platform-core (metrics-server)',
  traefik: 'platform-core (Ingress)',
  'local-path-storage': 'platform-core (local-path)',
  'groundwork-storage-probe': "platform-core's live storage check",
  observability: 'observability',
  'observability-agents': 'observability (per-node agents)',
  n8n: 'n8n',
};

export function checkClaims(cluster: Cluster, hosts: { n8n: string; grafana: string }, error: Report): void {
  const { n8n, observability, dr } = cluster.features;
  if (n8n.enabled && observability.enabled && hosts.n8n === hosts.grafana) {
    error(observability.grafanaHost ? 'features.observability.grafanaHost' : 'features.n8n.host', `${hosts.n8n} is both n8n's and Grafana's host; the Ingress would send one of them to the other`);
  }
  const owner = CLAIMED_NAMESPACES[dr.namespace];
  if (dr.enabled && owner) error('features.dr.namespace', `${dr.namespace} belongs to ${owner}; the backup jobs need a namespace of their own (their Talos API access is granted to that namespace)`);
}

/** Ports on the nodes that egress from workflows must never reach: Kubernetes, Talos, etcd, the kubelet. */
const NODE_CONTROL_PORTS = [6443, 50000, 50001, 2379, 2380, 10250];

export function checkEgress(cluster: Cluster, error: Report): void {
  const { egress } = cluster.features.n8n;
  const internal: Array<[string, string]> = [
    ['network.podCidr', cluster.network.podCidr],
    ['network.serviceCidr', cluster.network.serviceCidr],
  ];
  egress.cidrs.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (!cidr) return;
    for (const [field, range] of internal) {
      const other = parseCidr(range);
      if (other && cidrsOverlap(cidr, other)) error(`features.n8n.egress.cidrs[${i}]`, `${text} overlaps ${field} ${range}: workflows would reach the cluster's own pods or services, past their NetworkPolicies' intent`);
    }
    const nodes = parseCidr(cluster.network.nodeCidr);
    const control = egress.ports.filter((p) => NODE_CONTROL_PORTS.includes(p));
    if (nodes && cidrsOverlap(cidr, nodes) && control.length) {
      error(`features.n8n.egress.cidrs[${i}]`, `${text} covers the node network and egress.ports opens ${control.join(', ')}: workflows could reach the Kubernetes, Talos or etcd APIs of the nodes`);
    }
  });
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function polymod(values: number[]): number {
  const generators = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= generators[i]!;
  }
  return chk >>> 0;
}

/** An age recipient is Bech32 (BIP 173) with the human-readable part before its last "1": a typo breaks the checksum. */
export function ageRecipientChecksumOk(recipient: string): boolean {
  const text = recipient.toLowerCase();
  const sep = text.lastIndexOf('1');
  if (sep < 1 || text.length - sep < 7) return false;
  const hrp = text.slice(0, sep);
  const data = [...text.slice(sep + 1)].map((c) => BECH32.indexOf(c));
  if (data.some((d) => d === -1)) return false;
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  return polymod([...expanded, ...data]) === 1;
}

export function checkRecipients(cluster: Cluster, error: Report): void {
  cluster.sops.age.forEach((recipient, i) => {
    if (!ageRecipientChecksumOk(recipient)) error(`sops.age[${i}]`, `${recipient.slice(0, 12)}… fails its Bech32 checksum: a character is wrong or missing (copy it again from \`age-keygen -y\`)`);
  });
}

/**
 * Where our machine configs differ from what Talos's own generator (pkg/machinery/config/generate, at the
 * examples' Talos version) writes for the same cluster name, endpoint, versions, install disk and image, SANs,
 * KubePrism port and secrets bundle, and why. The Talos-code test fails on any difference not listed here, and
 * on an entry no example needs any more; docs/talos.md shows the list.
 *
 * A path is a field of the v1alpha1 document (`.machine.kubelet.extraArgs`), or a document of another kind
 * (`LinkConfig`), or a field of one (`HostnameConfig.auto`); an entry covers everything under its path.
 */
export interface ReviewedDifference {
  path: string;
  reason: string;
}

export const REVIEWED_DIFFERENCES: readonly ReviewedDifference[] = [
  { path: '.persist', reason: 'deprecated in Talos\'s types ("not supported anymore"); its generator still writes true, which is what leaving it out means' },
  { path: '.cluster.apiServer.auditPolicy', reason: "Talos's Metadata level, without the health probes, the kubelets' reads, events and leases (most of the volume on an SD card, none of the interest)" },
  { path: '.cluster.controllerManager.extraArgs.bind-address', reason: 'controller-manager metrics reachable by Prometheus (observability.controlPlaneMetrics)' },
  { path: '.cluster.scheduler.extraArgs.bind-address', reason: 'scheduler metrics reachable by Prometheus (observability.controlPlaneMetrics)' },
  { path: '.cluster.etcd.extraArgs.listen-metrics-urls', reason: 'etcd metrics reachable by Prometheus (observability.controlPlaneMetrics)' },
  { path: '.cluster.network.cni', reason: 'no CNI from Talos: platform-core installs Cilium (features.cilium)' },
  { path: '.cluster.proxy', reason: 'no kube-proxy: Cilium replaces it (features.cilium)' },
  { path: '.machine.features.kubernetesTalosAPIAccess', reason: 'the dr layer takes etcd snapshots through the Talos API (role os:etcd:backup, its namespace only)' },
  { path: '.machine.kubelet.extraArgs.rotate-server-certificates', reason: 'kubelet serving certificates signed by the cluster CA, so metrics-server and Prometheus can verify kubelets' },
  { path: '.machine.kubelet.extraMounts', reason: 'local-path storage needs its hostPath writable inside the kubelet (features.localStorage)' },
  { path: '.machine.kubelet.nodeIP', reason: 'the kubelet registers the node-network address, not whichever interface comes first' },
  { path: '.machine.logging', reason: "Talos's service logs to the observability layer's log shipper on loopback" },
  { path: '.machine.nodeLabels', reason: 'labels from the cluster file (nodes[].labels) besides the one Talos puts on control planes' },
  { path: '.machine.nodeTaints', reason: 'taints from the cluster file (nodes[].taints)' },
  { path: '.machine.install.diskSelector', reason: 'the cluster file picks the install disk by selector (installDiskSelector) instead of a device path' },
  { path: 'HostnameConfig.auto', reason: 'the node is named in the cluster file (HostnameConfig.hostname), not derived from its machine ID' },
  { path: 'HostnameConfig.hostname', reason: 'the node is named in the cluster file' },
  { path: 'LinkConfig', reason: 'static addressing from the cluster file; Talos\'s generator leaves the network to DHCP' },
  { path: 'VLANConfig', reason: 'the node network on a VLAN (network.vlan)' },
  { path: 'ResolverConfig', reason: 'nameservers from the cluster file' },
  { path: 'TimeSyncConfig', reason: 'NTP servers from the cluster file' },
  { path: 'Layer2VIPConfig', reason: 'the API endpoint\'s shared address on the control planes (network.vip)' },
  { path: 'KmsgLogConfig', reason: "the kernel's log to the observability layer's log shipper on loopback" },
  { path: 'VolumeConfig', reason: "/var (etcd, images, logs) on another disk than the system disk (nodes[].ephemeralDisk): a Pi's SD card spared" },
  { path: 'UserVolumeConfig', reason: 'local-path storage on a dedicated disk (nodes[].localStorageDisk)' },
];

/** The reviewed entry that covers a differing path, if any. */
export function reviewedFor(path: string): ReviewedDifference | undefined {
  return REVIEWED_DIFFERENCES.find((d) => path === d.path || path.startsWith(`${d.path}.`));
}

type Doc = Record<string, unknown>;

function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) flatten(child, `${path}.${key}`, out);
  } else out.set(path, canonical(value));
}

/** JSON with keys sorted, so the same content in another order compares equal (inside lists too). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** A config's documents as path to JSON value: v1alpha1's fields from `.`, other kinds under their kind. */
export function flattenDocuments(docs: Doc[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const doc of docs) {
    if (doc.kind === undefined) flatten(doc, '', out);
    else {
      const { apiVersion: _a, kind, name: _n, ...fields } = doc;
      flatten(fields, String(kind), out);
    }
  }
  return out;
}

/** Every path where the two configs differ (missing on one side counts). */
export function differingPaths(ours: Doc[], talos: Doc[]): string[] {
  const a = flattenDocuments(ours);
  const b = flattenDocuments(talos);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

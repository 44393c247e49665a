import type { Cluster, ClusterNode, Platform } from './schema.ts';
import { normalizeKubernetesVersion, normalizeTalosVersion, talosLineFor } from './versions.ts';

/** Values the cluster file leaves to defaults that depend on other fields. Layers read them here, once. */

const defaultLinks: Record<Platform, string | undefined> = {
  rpi4: 'end0',
  proxmox: 'ens18',
  docker: 'eth0',
  metal: undefined,
};

const defaultDisks: Record<Platform, string | undefined> = {
  rpi4: '/dev/mmcblk0',
  proxmox: '/dev/sda',
  docker: undefined,
  metal: undefined,
};

export function nodeArch(node: ClusterNode): 'amd64' | 'arm64' {
  return node.arch ?? (node.platform === 'rpi4' ? 'arm64' : 'amd64');
}

export function nodeLink(node: ClusterNode): string | undefined {
  return node.link ?? (node.mac ? undefined : defaultLinks[node.platform]);
}

export function nodeInstallDisk(node: ClusterNode): string | undefined {
  if (node.installDiskSelector) return undefined;
  return node.installDisk ?? defaultDisks[node.platform];
}

export function controlPlanes(cluster: Cluster): ClusterNode[] {
  return cluster.nodes.filter((n) => n.role === 'controlplane');
}

export function workers(cluster: Cluster): ClusterNode[] {
  return cluster.nodes.filter((n) => n.role === 'worker');
}

/** The Kubernetes API URL: the explicit endpoint, else the VIP, else the only control plane. */
export function apiEndpoint(cluster: Cluster): string {
  if (cluster.endpoint) return cluster.endpoint.replace(/\/+$/, '');
  const host = cluster.network.vip?.address ?? controlPlanes(cluster)[0]?.ip;
  return `https://${host}:6443`;
}

export function nameservers(cluster: Cluster): string[] {
  return cluster.network.nameservers ?? [cluster.network.gateway];
}

export function talosVersion(cluster: Cluster): string {
  return normalizeTalosVersion(cluster.versions.talos);
}

export function kubernetesVersion(cluster: Cluster): string {
  return normalizeKubernetesVersion(cluster.versions.kubernetes);
}

/** The Talos machine-config contract (v1.13, ...) that talos-config renders for. */
export function talosContract(cluster: Cluster): string {
  const line = talosLineFor(cluster.versions.talos);
  if (!line) throw new Error(`unsupported Talos version ${cluster.versions.talos}`);
  return line.contract;
}

export function n8nHost(cluster: Cluster): string {
  return cluster.features.n8n.host ?? `n8n.${cluster.domain}`;
}

/** Addresses Cilium may hand to LoadBalancer Services: the pool, else the ingress address alone, else none. */
export function loadBalancerPool(cluster: Cluster): { start: string; stop: string } | undefined {
  const { cilium, ingress } = cluster.features;
  if (!cilium.enabled || !cilium.kubeProxyReplacement) return undefined;
  if (cluster.network.loadBalancerPool) return cluster.network.loadBalancerPool;
  return ingress.loadBalancerIp ? { start: ingress.loadBalancerIp, stop: ingress.loadBalancerIp } : undefined;
}

const GIB = 1024 ** 3;

/** CPU cores and memory bytes of a node: what the cluster file says, a Raspberry Pi 4's 4 cores and 8 GiB, or unknown. */
export function nodeCapacity(node: ClusterNode): { cpu: number; memoryBytes: number } | undefined {
  if (node.capacity) {
    const match = /^(\d+(?:\.\d+)?)(Mi|Gi|Ti)$/.exec(node.capacity.memory)!;
    const unit = { Mi: 1024 ** 2, Gi: GIB, Ti: 1024 ** 4 }[match[2] as 'Mi' | 'Gi' | 'Ti'];
    return { cpu: node.capacity.cpu, memoryBytes: Math.round(Number(match[1]) * unit) };
  }
  return node.platform === 'rpi4' ? { cpu: 4, memoryBytes: 8 * GIB } : undefined;
}

/** Labels Kubernetes and Talos put on a node, plus the cluster file's own. */
export function nodeLabels(node: ClusterNode): Record<string, string> {
  return {
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': nodeArch(node),
    ...(node.role === 'controlplane' ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
    ...node.labels,
  };
}

/** Taints a node carries: the cluster file's, and the control-plane taint unless control planes take workloads. */
export function nodeTaints(cluster: Cluster, node: ClusterNode): Array<{ key: string; value?: string; effect: string }> {
  const taints: Array<{ key: string; value?: string; effect: string }> = [...node.taints];
  if (node.role === 'controlplane' && !cluster.controlPlane.allowWorkloads) taints.push({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
  return taints;
}

/** The Kubernetes API address the operator's kubeconfig and apply use (kubeconfigEndpoint, else the nodes' endpoint). */
export function kubeconfigServer(cluster: Cluster): string {
  return cluster.kubeconfigEndpoint?.replace(/\/+$/, '') ?? apiEndpoint(cluster);
}

export function grafanaHost(cluster: Cluster): string {
  return cluster.features.observability.grafanaHost ?? `grafana.${cluster.domain}`;
}

/**
 * Where Talos sends its service and kernel logs when observability is on: the log shipper every node runs in
 * the host network, on loopback (JSON lines over TCP, the one format Talos sends). talos-config writes it into
 * machine.logging; the observability layer's shipper listens on it.
 */
export const TALOS_LOG_PORT = 5170;

export function talosLogEndpoint(cluster: Cluster): string | undefined {
  return cluster.features.observability.enabled ? `tcp://127.0.0.1:${TALOS_LOG_PORT}/` : undefined;
}

const HOURS = { h: 1, d: 24, w: 168 } as const;

/** A cluster-file duration (36h, 15d, 2w) in hours. */
export function durationHours(duration: string): number {
  const match = /^(\d+)(h|d|w)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * HOURS[match[2] as keyof typeof HOURS];
}

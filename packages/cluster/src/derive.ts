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

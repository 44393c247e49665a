import { talosLogEndpoint, type Cluster } from '@groundwork/cluster';

/**
 * Talos's own logs (machined, kubelet, etcd, apid, containerd, … and the kernel's) to the observability layer's
 * log shipper on the same node. Talos sends JSON lines over TCP (its only format); the shipper listens on
 * loopback in the host network, so nothing leaves the node unencrypted and no address depends on the cluster.
 * Talos keeps sending to the endpoint as it comes and goes (lines sent while it is down are lost).
 */
export function machineLogging(cluster: Cluster): Record<string, unknown> | undefined {
  const endpoint = talosLogEndpoint(cluster);
  return endpoint ? { destinations: [{ endpoint, format: 'json_lines' }] } : undefined;
}

/** The kernel's messages to the same place (a KmsgLogConfig document; machine.logging carries service logs only). */
export function loggingDocuments(cluster: Cluster): Array<Record<string, unknown>> {
  const url = talosLogEndpoint(cluster);
  return url ? [{ apiVersion: 'v1alpha1', kind: 'KmsgLogConfig', name: 'observability', url }] : [];
}

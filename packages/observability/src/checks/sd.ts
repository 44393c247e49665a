import { nodeLabels, type LoadedCluster } from '@groundwork/cluster';
import { isRecord, podTemplateOf, type KubeObject } from '@groundwork/kube';
import { ipv4 } from '@groundwork/cluster';

/**
 * What Kubernetes service discovery would hand Prometheus for this cluster: Debian's promtool is built
 * without it, so the check feeds these target groups through file_sd instead and lets promtool's real
 * relabelling decide what gets scraped.
 */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

function metaMap(prefix: string, values: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values ?? {})) {
    out[`${prefix}_${sanitize(key)}`] = value;
    out[`${prefix}present_${sanitize(key)}`] = 'true';
  }
  return out;
}

export function nodeTargets(cluster: LoadedCluster): TargetGroup[] {
  return cluster.config.nodes.map((node) => ({
    targets: [`${node.ip}:10250`],
    labels: {
      __meta_kubernetes_node_name: node.name,
      __meta_kubernetes_node_address_InternalIP: node.ip,
      __meta_kubernetes_node_address_Hostname: node.name,
      ...metaMap('__meta_kubernetes_node_label', nodeLabels(node)),
    },
  }));
}

export interface PodAddress {
  object: KubeObject;
  ip: string;
}

/** One pod per rendered workload, with a made-up pod address from the pod network. */
export function podAddresses(cluster: LoadedCluster, objects: KubeObject[]): PodAddress[] {
  const base = ipv4.parseCidr(cluster.config.network.podCidr)!;
  let next = ipv4.networkOf(base) + 10;
  return objects
    .filter((o) => podTemplateOf(o))
    .map((object) => ({ object, ip: podTemplateOf(object)!.spec.hostNetwork === true ? cluster.config.nodes[0]!.ip : ipv4.formatIPv4(next++) }));
}

export function podTargets(cluster: LoadedCluster, objects: KubeObject[]): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const { object, ip } of podAddresses(cluster, objects)) {
    const pod = podTemplateOf(object)!;
    const common = {
      __meta_kubernetes_namespace: object.metadata.namespace ?? 'default',
      __meta_kubernetes_pod_name: `${object.metadata.name}-0`,
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_node_name: cluster.config.nodes[0]!.name,
      ...metaMap('__meta_kubernetes_pod_annotation', pod.annotations),
      ...metaMap('__meta_kubernetes_pod_label', pod.labels),
    };
    for (const container of Array.isArray(pod.spec.containers) ? pod.spec.containers : []) {
      if (!isRecord(container)) continue;
      const ports = (Array.isArray(container.ports) ? container.ports : []) as Array<{ containerPort: number; name?: string; protocol?: string }>;
      const base = { ...common, __meta_kubernetes_pod_container_name: String(container.name) };
      if (ports.length === 0) groups.push({ targets: [ip], labels: base });
      for (const port of ports) {
        groups.push({
          targets: [`${ip}:${port.containerPort}`],
          labels: { ...base, __meta_kubernetes_pod_container_port_number: String(port.containerPort), __meta_kubernetes_pod_container_port_name: port.name ?? '', __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP' },
        });
      }
    }
  }
  return groups;
}

/** Endpoints of `default/kubernetes` (the API server on every control plane) and of every rendered Service. */
export function endpointSliceTargets(cluster: LoadedCluster, objects: KubeObject[]): TargetGroup[] {
  const groups: TargetGroup[] = cluster.config.nodes
    .filter((n) => n.role === 'controlplane')
    .map((n) => ({
      targets: [`${n.ip}:6443`],
      labels: { __meta_kubernetes_namespace: 'default', __meta_kubernetes_service_name: 'kubernetes', __meta_kubernetes_endpointslice_port_name: 'https', __meta_kubernetes_endpointslice_port: '6443' },
    }));
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const ports = ((svc.spec as { ports?: Array<{ name?: string; port: number }> } | undefined)?.ports ?? []);
    for (const port of ports) {
      groups.push({
        targets: [`10.96.0.99:${port.port}`],
        labels: {
          __meta_kubernetes_namespace: svc.metadata.namespace ?? 'default',
          __meta_kubernetes_service_name: svc.metadata.name,
          __meta_kubernetes_endpointslice_port_name: port.name ?? '',
          __meta_kubernetes_endpointslice_port: String(port.port),
          ...metaMap('__meta_kubernetes_service_annotation', svc.metadata.annotations),
        },
      });
    }
  }
  return groups;
}

/** The addresses Prometheus should end up scraping per job, worked out without its relabelling. */
export function expectedTargets(cluster: LoadedCluster, objects: KubeObject[]): Record<string, string[]> {
  const all = cluster.config.nodes.map((n) => n.ip);
  const cps = cluster.config.nodes.filter((n) => n.role === 'controlplane').map((n) => n.ip);
  const at = (ips: string[], port: number) => ips.map((ip) => `${ip}:${port}`).sort();
  const annotated = podAddresses(cluster, objects)
    .filter(({ object }) => podTemplateOf(object)!.annotations['prometheus.io/scrape'] === 'true')
    .map(({ object, ip }) => `${ip}:${podTemplateOf(object)!.annotations['prometheus.io/port']}`)
    .sort();
  const services = objects
    .filter((o) => o.kind === 'Service' && o.metadata.annotations?.['prometheus.io/scrape'] === 'true')
    .map((o) => `10.96.0.99:${o.metadata.annotations!['prometheus.io/port']}`)
    .sort();
  return {
    kubelet: at(all, 10250),
    cadvisor: at(all, 10250),
    'node-exporter': at(all, 9100),
    'cilium-agent': at(all, 9962),
    etcd: at(cps, 2381),
    'kube-controller-manager': at(cps, 10257),
    'kube-scheduler': at(cps, 10259),
    apiserver: at(cps, 6443),
    'kubernetes-pods': [...new Set(annotated)],
    'kubernetes-services': [...new Set(services)],
  };
}

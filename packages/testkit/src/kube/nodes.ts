import { parseAllDocuments } from 'yaml';
import { KWOK_NODE_ANNOTATION } from './kwok.ts';
import type { KubeObject, TestClient } from './client.ts';

/**
 * Nodes as a Talos machine registers them, for kwok to keep alive: the name, labels and taints come from the
 * node's rendered machine config (what Talos's kubelet would register), the hardware (CPU, memory, architecture,
 * address) from the cluster file, and allocatable is capacity less what Talos reserves.
 */

export interface Hardware {
  ip: string;
  arch: 'amd64' | 'arm64';
  cpu: number;
  memoryBytes: number;
}

const MIB = 1024 ** 2;

/**
 * What the kubelet Talos v1.13 configures keeps back (controllers/k8s/kubelet_spec.go): systemReserved of 50m CPU
 * and 512Mi (control planes) or 384Mi (workers) of memory, plus the kubelet's default hard eviction threshold of
 * 100Mi. There is no kubeReserved.
 */
export const TALOS_RESERVED = { cpuMilli: 50, memoryBytes: { controlplane: 512 * MIB, worker: 384 * MIB }, evictionBytes: 100 * MIB } as const;

type Tree = Record<string, unknown>;

export function nodeFromMachineConfig(text: string, hardware: Hardware, versions: { kubernetes: string; talos: string }): KubeObject {
  const docs = parseAllDocuments(text).map((d) => d.toJSON() as Tree);
  const main = docs.find((d) => d?.version === 'v1alpha1');
  if (!main) throw new Error('machine config: no v1alpha1 document');
  const machine = main.machine as Tree;
  const cluster = (main.cluster ?? {}) as Tree;
  const type = machine.type === 'controlplane' ? 'controlplane' : 'worker';
  const hostname = (docs.find((d) => d?.kind === 'HostnameConfig')?.hostname ?? (machine.network as Tree | undefined)?.hostname) as string | undefined;
  if (!hostname) throw new Error('machine config: no hostname (HostnameConfig or machine.network.hostname)');
  const taints = Object.entries((machine.nodeTaints ?? {}) as Record<string, string>).map(([key, spec]) => {
    const [value, effect] = spec.includes(':') ? spec.split(':') : ['', spec];
    return { key, ...(value ? { value } : {}), effect };
  });
  if (type === 'controlplane' && cluster.allowSchedulingOnControlPlanes !== true) taints.push({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
  const memoryReserved = TALOS_RESERVED.memoryBytes[type] + TALOS_RESERVED.evictionBytes;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: hostname,
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': hostname,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': hardware.arch,
        'beta.kubernetes.io/arch': hardware.arch,
        'beta.kubernetes.io/os': 'linux',
        ...(type === 'controlplane' ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
        ...((machine.nodeLabels ?? {}) as Record<string, string>),
      },
    },
    spec: { ...(taints.length ? { taints } : {}) },
    status: {
      capacity: { cpu: String(hardware.cpu), memory: `${Math.floor(hardware.memoryBytes / 1024)}Ki`, pods: '110' },
      allocatable: { cpu: `${hardware.cpu * 1000 - TALOS_RESERVED.cpuMilli}m`, memory: `${Math.floor((hardware.memoryBytes - memoryReserved) / 1024)}Ki`, pods: '110' },
      addresses: [
        { type: 'InternalIP', address: hardware.ip },
        { type: 'Hostname', address: hostname },
      ],
      nodeInfo: {
        architecture: hardware.arch,
        operatingSystem: 'linux',
        osImage: `Talos (${versions.talos})`,
        kubeletVersion: versions.kubernetes.startsWith('v') ? versions.kubernetes : `v${versions.kubernetes}`,
        containerRuntimeVersion: 'containerd://2.1',
        kernelVersion: '6.12.0-talos',
        machineID: '',
        systemUUID: '',
        bootID: '',
        kubeProxyVersion: '',
      },
    },
  };
}

const isReady = (node: KubeObject | undefined) => ((node?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Registers the nodes and waits until kwok reports each Ready and the controller-manager gave it a pod CIDR. */
export async function addNodes(client: TestClient, nodes: KubeObject[], timeoutMs = 60_000): Promise<void> {
  for (const node of nodes) await client.create(node, 'kubelet');
  for (const node of nodes) {
    await client.waitFor(`node ${node.metadata.name} to be Ready with a pod CIDR`, async () => {
      const live = await client.get('v1', 'Node', node.metadata.name);
      return isReady(live) && (live?.spec as { podCIDR?: string } | undefined)?.podCIDR ? true : undefined;
    }, timeoutMs);
  }
}

/** A worker node for tests that have no cluster file: 4 cores and 8 GiB unless told otherwise. */
export function testNode(name: string, options: { cpu?: number; memoryBytes?: number; labels?: Record<string, string> } = {}): KubeObject {
  const config = `version: v1alpha1\nmachine:\n  type: worker\n  network: { hostname: ${name} }\n  nodeLabels: ${JSON.stringify(options.labels ?? {})}\ncluster: {}\n`;
  return nodeFromMachineConfig(config, { ip: '10.9.0.1', arch: 'amd64', cpu: options.cpu ?? 4, memoryBytes: options.memoryBytes ?? 8 * 1024 ** 3 }, { kubernetes: 'v1.36.3', talos: 'v1.13.9' });
}

import { controlPlanes, nodeCapacity, type Cluster } from '@groundwork/cluster';
import { describe, isRecord, type KubeObject } from '../model/object.ts';
import { get, podTemplateOf, replicasOf, type PodTemplate } from '../policy/pods.ts';
import { formatCpu, formatMemory, parseQuantity } from './quantity.ts';
import { eligibleNodes } from './scheduling.ts';

export interface Usage {
  cpuRequests: number;
  cpuLimits: number;
  memoryRequests: number;
  memoryLimits: number;
}

const ZERO: Usage = { cpuRequests: 0, cpuLimits: 0, memoryRequests: 0, memoryLimits: 0 };
/** CPU is kept to whole millicores, as Kubernetes does, so sums do not drift (0.1 + 0.2). */
const milli = (cores: number) => Math.round(cores * 1000) / 1000;
const add = (a: Usage, b: Usage, times = 1): Usage => ({
  cpuRequests: milli(a.cpuRequests + b.cpuRequests * times),
  cpuLimits: milli(a.cpuLimits + b.cpuLimits * times),
  memoryRequests: a.memoryRequests + b.memoryRequests * times,
  memoryLimits: a.memoryLimits + b.memoryLimits * times,
});
const max = (a: Usage, b: Usage): Usage => ({
  cpuRequests: Math.max(a.cpuRequests, b.cpuRequests),
  cpuLimits: Math.max(a.cpuLimits, b.cpuLimits),
  memoryRequests: Math.max(a.memoryRequests, b.memoryRequests),
  memoryLimits: Math.max(a.memoryLimits, b.memoryLimits),
});

/**
 * Estimates of what runs outside Kubernetes's accounting (see docs/footprint.md): Talos, kubelet and
 * containerd on every node; etcd and the control-plane static pods on each control plane.
 */
export const SYSTEM_RESERVE = {
  node: { cpu: 0.25, memoryBytes: 560 * 2 ** 20 },
  controlPlane: { cpu: 0.5, memoryBytes: 1280 * 2 ** 20 },
};

function containerUsage(container: unknown): Usage {
  const q = (section: string, key: string) => {
    const value = get(container, 'resources', section, key);
    return typeof value === 'string' || typeof value === 'number' ? parseQuantity(value) : 0;
  };
  const cpuRequests = q('requests', 'cpu');
  const memoryRequests = q('requests', 'memory');
  // CPU limits are usually left out on purpose (they throttle bursts); 0 here means "none set".
  return { cpuRequests, memoryRequests, cpuLimits: q('limits', 'cpu'), memoryLimits: q('limits', 'memory') || memoryRequests };
}

/** What the scheduler reserves for one pod: its containers (and sidecars), or its largest init container if bigger. */
export function podUsage(pod: PodTemplate): Usage {
  const inits = Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [];
  const sidecars = inits.filter((c) => isRecord(c) && c.restartPolicy === 'Always');
  const plain = inits.filter((c) => !(isRecord(c) && c.restartPolicy === 'Always'));
  const running = [...(Array.isArray(pod.spec.containers) ? pod.spec.containers : []), ...sidecars].reduce<Usage>((sum, c) => add(sum, containerUsage(c)), ZERO);
  return plain.reduce<Usage>((acc, c) => max(acc, containerUsage(c)), running);
}

export interface WorkloadUsage {
  object: string;
  namespace: string;
  pods: number;
  total: Usage;
  /** Runs to completion (Jobs, CronJobs): counted while it runs, listed apart from the steady state. */
  transient: boolean;
}

export interface Footprint {
  workloads: WorkloadUsage[];
  namespaces: Array<{ namespace: string; usage: Usage }>;
  /** The steady state: what keeps running. */
  total: Usage;
  /** The steady state with every Job and CronJob running at once (backups that happen to overlap). */
  peak: Usage;
  capacity: { cpu: number; memoryBytes: number; nodes: number };
  reserve: { cpu: number; memoryBytes: number };
  unknownNodes: string[];
}

function podsOf(object: KubeObject, pod: PodTemplate, cluster: Cluster): number {
  if (object.kind === 'DaemonSet') return eligibleNodes(cluster, pod).length;
  if (object.kind === 'Job' || object.kind === 'CronJob') {
    const parallelism = object.kind === 'Job' ? get(object, 'spec', 'parallelism') : get(object, 'spec', 'jobTemplate', 'spec', 'parallelism');
    return typeof parallelism === 'number' ? parallelism : 1;
  }
  return replicasOf(object) ?? 1;
}

export function footprint(objects: KubeObject[], cluster: Cluster): Footprint {
  const workloads: WorkloadUsage[] = [];
  for (const object of objects) {
    const pod = podTemplateOf(object);
    if (!pod) continue;
    const pods = podsOf(object, pod, cluster);
    workloads.push({
      object: describe(object),
      namespace: object.metadata.namespace ?? 'default',
      pods,
      total: add(ZERO, podUsage(pod), pods),
      transient: object.kind === 'Job' || object.kind === 'CronJob',
    });
  }
  const byNamespace = new Map<string, Usage>();
  for (const w of workloads.filter((w) => !w.transient)) byNamespace.set(w.namespace, add(byNamespace.get(w.namespace) ?? ZERO, w.total));
  const capacity = { cpu: 0, memoryBytes: 0, nodes: 0 };
  const unknownNodes: string[] = [];
  for (const node of cluster.nodes) {
    const c = nodeCapacity(node);
    if (!c) {
      unknownNodes.push(node.name);
      continue;
    }
    capacity.cpu += c.cpu;
    capacity.memoryBytes += c.memoryBytes;
    capacity.nodes++;
  }
  const total = [...byNamespace.values()].reduce<Usage>((sum, u) => add(sum, u), ZERO);
  const cps = controlPlanes(cluster).filter((n) => nodeCapacity(n)).length;
  const reserve = {
    cpu: capacity.nodes * SYSTEM_RESERVE.node.cpu + cps * SYSTEM_RESERVE.controlPlane.cpu,
    memoryBytes: capacity.nodes * SYSTEM_RESERVE.node.memoryBytes + cps * SYSTEM_RESERVE.controlPlane.memoryBytes,
  };
  return {
    workloads,
    namespaces: [...byNamespace.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, usage]) => ({ namespace, usage })),
    total,
    peak: workloads.filter((w) => w.transient).reduce<Usage>((sum, w) => add(sum, w.total), total),
    capacity,
    reserve,
    unknownNodes,
  };
}

const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : 'n/a');

/** What is left for workloads once the system estimate and these requests are taken. */
export function leftOver(fp: Footprint): { cpu: number; memoryBytes: number } {
  return { cpu: fp.capacity.cpu - fp.reserve.cpu - fp.total.cpuRequests, memoryBytes: fp.capacity.memoryBytes - fp.reserve.memoryBytes - fp.total.memoryRequests };
}

export function footprintSummary(fp: Footprint, title: string): string[] {
  const left = leftOver(fp);
  const lines = [
    `${title}: requests ${formatCpu(fp.total.cpuRequests)} CPU, ${formatMemory(fp.total.memoryRequests)} memory; limits ${cpuLimit(fp.total.cpuLimits)} CPU, ${formatMemory(fp.total.memoryLimits)} memory`,
  ];
  if (fp.peak.cpuRequests !== fp.total.cpuRequests || fp.peak.memoryRequests !== fp.total.memoryRequests) {
    lines.push(`with every Job and CronJob running at once: requests ${formatCpu(fp.peak.cpuRequests)} CPU, ${formatMemory(fp.peak.memoryRequests)} memory; limits ${formatMemory(fp.peak.memoryLimits)} memory`);
  }
  if (fp.capacity.nodes) {
    lines.push(
      `capacity of ${fp.capacity.nodes} node${fp.capacity.nodes === 1 ? '' : 's'}: ${formatCpu(fp.capacity.cpu)} CPU, ${formatMemory(fp.capacity.memoryBytes)}; ` +
        `system estimate ${formatCpu(fp.reserve.cpu)} CPU, ${formatMemory(fp.reserve.memoryBytes)}; left for workloads ${formatCpu(left.cpu)} CPU (${pct(left.cpu, fp.capacity.cpu)}), ${formatMemory(left.memoryBytes)} (${pct(left.memoryBytes, fp.capacity.memoryBytes)})`,
    );
  }
  if (fp.unknownNodes.length) lines.push(`capacity unknown for ${fp.unknownNodes.join(', ')} (set nodes[].capacity in cluster.yaml)`);
  return lines;
}

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const cpuLimit = (cores: number) => (cores === 0 ? 'none' : formatCpu(cores));
const usageCells = (u: Usage) => [formatCpu(u.cpuRequests), cpuLimit(u.cpuLimits), formatMemory(u.memoryRequests), formatMemory(u.memoryLimits)];

export function footprintMarkdown(fp: Footprint, title: string): string {
  const left = leftOver(fp);
  const out = [
    `# Footprint: ${title}`,
    '',
    'CPU and memory the rendered workloads ask for, against the nodes the cluster file declares. CPU limits are',
    'mostly left out on purpose (they throttle bursts without protecting anyone); memory limits are always set.',
    '',
  ];
  out.push('## Per namespace', '', row(['Namespace', 'CPU requests', 'CPU limits', 'Memory requests', 'Memory limits']), row(['---', '---:', '---:', '---:', '---:']));
  for (const { namespace, usage } of fp.namespaces) out.push(row([namespace, ...usageCells(usage)]));
  out.push(row(['**total**', ...usageCells(fp.total).map((c) => `**${c}**`)]), '');
  out.push('## Per workload', '', row(['Workload', 'Pods', 'CPU requests', 'CPU limits', 'Memory requests', 'Memory limits']), row(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const w of fp.workloads) out.push(row([`${w.object}${w.transient ? ' (runs to completion)' : ''}`, String(w.pods), ...usageCells(w.total)]));
  out.push('', '## Against the nodes', '');
  if (fp.capacity.nodes) {
    out.push(
      row(['', 'CPU', 'Memory']),
      row(['---', '---:', '---:']),
      row([`Capacity (${fp.capacity.nodes} nodes)`, formatCpu(fp.capacity.cpu), formatMemory(fp.capacity.memoryBytes)]),
      row(['System estimate (Talos, kubelet, control plane)', formatCpu(fp.reserve.cpu), formatMemory(fp.reserve.memoryBytes)]),
      row(['Requested here', formatCpu(fp.total.cpuRequests), formatMemory(fp.total.memoryRequests)]),
      row(['**Left for workloads**', `**${formatCpu(left.cpu)}** (${pct(left.cpu, fp.capacity.cpu)})`, `**${formatMemory(left.memoryBytes)}** (${pct(left.memoryBytes, fp.capacity.memoryBytes)})`]),
    );
  }
  if (fp.unknownNodes.length) out.push('', `Capacity unknown for ${fp.unknownNodes.join(', ')}: set \`nodes[].capacity\` in cluster.yaml.`);
  return `${out.join('\n')}\n`;
}

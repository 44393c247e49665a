import { describe, expect, it } from 'vitest';
import { validateClusterText } from '@groundwork/cluster';
import { ANNOTATIONS, container, cronJob, daemonSet, deployment, disruptionBudget, toPlain, type KubeObject } from '../index.ts';
import { footprint, footprintMarkdown, footprintSummary, leftOver, podUsage, SYSTEM_RESERVE } from './footprint.ts';
import { formatCpu, formatMemory, parseQuantity } from './quantity.ts';
import { resilience, resilienceSummary } from './resilience.ts';

const MI = 2 ** 20;
const GI = 2 ** 30;

function cluster(nodes: string, extra = '') {
  const text = `apiVersion: groundwork.dev/v1alpha1
kind: Cluster
name: lab
domain: lab.example.com
versions: { talos: v1.13.9, kubernetes: 1.36.3 }
${extra}
network: { nodeCidr: 10.0.1.0/24, gateway: 10.0.1.1 }
nodes:
${nodes}
sops: { age: [age13tsk788v92sf0jaq5mn486vmru35cr3qhdqnhyf9c6xmjy6gmg4spm3yx3] }
`;
  const outcome = validateClusterText(text, 'cluster.yaml');
  if (!outcome.config) throw new Error(outcome.errors.join('\n'));
  return outcome.config;
}

const pis = cluster(`  - { name: cp, ip: 10.0.1.10, role: controlplane, platform: rpi4 }
  - { name: w1, ip: 10.0.1.11, role: worker, platform: rpi4 }
  - { name: w2, ip: 10.0.1.12, role: worker, platform: rpi4, taints: [{ key: dedicated, value: db, effect: NoSchedule }] }`);

const c = (name: string, cpu: string, memory: string, memoryLimit: string) => container({ name, image: 'x:1', resources: { cpu, memory, memoryLimit } });

describe('quantities', () => {
  it('parse and format CPU and memory the way Kubernetes writes them', () => {
    expect([parseQuantity('100m'), parseQuantity('1.5'), parseQuantity('2')]).toEqual([0.1, 1.5, 2]);
    expect([parseQuantity('64Mi'), parseQuantity('1Gi'), parseQuantity('1G'), parseQuantity('1e3'), parseQuantity('128974848')]).toEqual([64 * MI, GI, 1e9, 1000, 128974848]);
    expect(() => parseQuantity('12 GB')).toThrow('"12 GB" is not a Kubernetes quantity');
    expect([formatCpu(0.25), formatCpu(13.83), formatCpu(4)]).toEqual(['250m', '13.83', '4']);
    expect([formatMemory(96 * MI), formatMemory(1.5 * GI)]).toEqual(['96Mi', '1.5Gi']);
  });
});

describe('footprint', () => {
  it('counts what the scheduler reserves: containers and sidecars, or the largest init container when bigger', () => {
    const pod = toPlain(deployment({ name: 'a', namespace: 'x' }, { replicas: 1, pod: { containers: [c('a', '100m', '64Mi', '128Mi'), c('b', '50m', '32Mi', '64Mi')], initContainers: [c('init', '500m', '16Mi', '16Mi')] } }));
    const template = (pod.spec as any).template;
    expect(podUsage({ path: '', spec: template.spec, annotations: {}, labels: {} })).toEqual({ cpuRequests: 0.5, cpuLimits: 0, memoryRequests: 96 * MI, memoryLimits: 192 * MI });
  });

  it('multiplies by replicas, runs DaemonSets on the nodes they tolerate, and sums per namespace', () => {
    const objects: KubeObject[] = [
      toPlain(deployment({ name: 'web', namespace: 'apps' }, { replicas: 3, pod: { containers: [c('web', '100m', '128Mi', '256Mi')] } })),
      toPlain(daemonSet({ name: 'agent', namespace: 'system' }, { pod: { containers: [c('agent', '50m', '64Mi', '128Mi')] } })),
      toPlain(daemonSet({ name: 'everywhere', namespace: 'system' }, { pod: { containers: [c('e', '10m', '16Mi', '32Mi')], spec: { tolerations: [{ operator: 'Exists' }] } } })),
    ];
    const fp = footprint(objects, pis);
    // The control plane is tainted (no allowWorkloads) and w2 carries dedicated=db: "agent" only lands on w1.
    expect(fp.workloads.map((w) => [w.object, w.pods])).toEqual([['Deployment apps/web', 3], ['DaemonSet system/agent', 1], ['DaemonSet system/everywhere', 3]]);
    expect(fp.namespaces).toEqual([
      { namespace: 'apps', usage: { cpuRequests: 0.3, cpuLimits: 0, memoryRequests: 384 * MI, memoryLimits: 768 * MI } },
      { namespace: 'system', usage: { cpuRequests: 0.08, cpuLimits: 0, memoryRequests: 112 * MI, memoryLimits: 224 * MI } },
    ]);
    expect(fp.capacity).toEqual({ cpu: 12, memoryBytes: 24 * GI, nodes: 3 });
    expect(fp.reserve).toEqual({ cpu: 3 * SYSTEM_RESERVE.node.cpu + SYSTEM_RESERVE.controlPlane.cpu, memoryBytes: 3 * SYSTEM_RESERVE.node.memoryBytes + SYSTEM_RESERVE.controlPlane.memoryBytes });
    expect(leftOver(fp).memoryBytes).toBe(24 * GI - fp.reserve.memoryBytes - 496 * MI);
    expect(footprintMarkdown(fp, 'demo')).toContain('| **total** | **380m** | **none** | **496Mi** | **992Mi** |');
  });

  it('keeps Jobs and CronJobs out of the steady state and counts them all running at once at the peak', () => {
    const objects: KubeObject[] = [
      toPlain(deployment({ name: 'web', namespace: 'apps' }, { replicas: 2, pod: { containers: [c('web', '100m', '128Mi', '256Mi')] } })),
      toPlain(cronJob({ name: 'backup', namespace: 'dr' }, { schedule: '0 3 * * *', activeDeadlineSeconds: 3600, pod: { containers: [c('backup', '200m', '256Mi', '512Mi')] } })),
      toPlain(cronJob({ name: 'export', namespace: 'dr' }, { schedule: '0 4 * * *', activeDeadlineSeconds: 3600, pod: { containers: [c('export', '50m', '64Mi', '128Mi')] } })),
    ];
    const fp = footprint(objects, pis);
    expect(fp.total).toEqual({ cpuRequests: 0.2, cpuLimits: 0, memoryRequests: 256 * MI, memoryLimits: 512 * MI });
    expect(fp.peak).toEqual({ cpuRequests: 0.45, cpuLimits: 0, memoryRequests: 576 * MI, memoryLimits: 1152 * MI });
    expect(footprintSummary(fp, 'all')).toContain('with every Job and CronJob running at once: requests 450m CPU, 576Mi memory; limits 1.13Gi memory');
    expect(footprintSummary(footprint(objects.slice(0, 1), pis), 'web').join('\n')).not.toContain('running at once');
  });

  it('says which nodes have no known capacity', () => {
    const vms = cluster(`  - { name: cp, ip: 10.0.1.10, role: controlplane, platform: proxmox, capacity: { cpu: 2, memory: 4Gi } }
  - { name: w1, ip: 10.0.1.11, role: worker, platform: proxmox }`);
    const fp = footprint([], vms);
    expect(fp.capacity).toEqual({ cpu: 2, memoryBytes: 4 * GI, nodes: 1 });
    expect(fp.unknownNodes).toEqual(['w1']);
  });
});

describe('resilience', () => {
  it('finds single points of failure in the cluster and the workloads', () => {
    const objects = [
      toPlain(deployment({ name: 'solo', namespace: 'apps' }, { replicas: 1, pod: { containers: [c('a', '1m', '1Mi', '1Mi')] } })),
      toPlain(deployment({ name: 'accepted', namespace: 'apps' }, { replicas: 1, annotations: { [ANNOTATIONS.singleReplicaReason]: 'batch only' }, pod: { containers: [c('a', '1m', '1Mi', '1Mi')] } })),
      toPlain(deployment({ name: 'pair', namespace: 'apps' }, { replicas: 2, pod: { containers: [c('a', '1m', '1Mi', '1Mi')] } })),
      toPlain(deployment({ name: 'safe', namespace: 'apps' }, { replicas: 2, pod: { containers: [c('a', '1m', '1Mi', '1Mi')] } })),
      toPlain(disruptionBudget({ name: 'safe', namespace: 'apps' })),
    ];
    const open = cluster(`  - { name: cp, ip: 10.0.1.10, role: controlplane, platform: rpi4 }
  - { name: w1, ip: 10.0.1.11, role: worker, platform: rpi4 }
  - { name: w2, ip: 10.0.1.12, role: worker, platform: rpi4 }`);
    const items = resilience(objects, open);
    const risk = (subject: string) => items.find((i) => i.subject === subject);
    expect(risk('control plane')).toEqual({ subject: 'control plane', risk: 'single point of failure', why: 'one control plane: the Kubernetes API and etcd stop when it does' });
    expect(risk('Deployment apps/solo')?.risk).toBe('single point of failure');
    expect(risk('Deployment apps/accepted')).toMatchObject({ risk: 'at risk', why: 'one replica, accepted: batch only' });
    expect(risk('Deployment apps/pair')).toMatchObject({ risk: 'at risk', why: '2 replicas, but no PodDisruptionBudget' });
    expect(risk('Deployment apps/safe')).toMatchObject({ risk: 'ok', why: '2 replicas over 2 eligible nodes, with a disruption budget' });
    expect(resilienceSummary(items)[0]).toBe('resilience: 2 single points of failure, 2 at risk, 2 ok');
    // With w2 reserved by a taint, two replicas can only share one node.
    expect(resilience(objects, pis).find((i) => i.subject === 'Deployment apps/safe')).toMatchObject({ risk: 'at risk', why: '2 replicas, but only 1 node can run it' });
  });

  it('knows what an even number of control planes and a VIP mean', () => {
    const ha = validateClusterText(
      `apiVersion: groundwork.dev/v1alpha1
kind: Cluster
name: lab
domain: lab.example.com
versions: { talos: v1.13.9, kubernetes: 1.36.3 }
network: { nodeCidr: 10.0.1.0/24, gateway: 10.0.1.1, vip: { address: 10.0.1.10 } }
nodes:
  - { name: a, ip: 10.0.1.11, role: controlplane, platform: proxmox }
  - { name: b, ip: 10.0.1.12, role: controlplane, platform: proxmox }
sops: { age: [age13tsk788v92sf0jaq5mn486vmru35cr3qhdqnhyf9c6xmjy6gmg4spm3yx3] }
`,
      'cluster.yaml',
    ).config!;
    const items = resilience([], ha);
    expect(items.find((i) => i.subject === 'control plane')).toEqual({ subject: 'control plane', risk: 'at risk', why: '2 etcd members tolerate 0 failure(s), no more than 1 would' });
    expect(items.find((i) => i.subject === 'API endpoint')).toEqual({ subject: 'API endpoint', risk: 'ok', why: 'VIP 10.0.1.10 moves to a healthy control plane' });
    expect(items.find((i) => i.subject === 'workload nodes')?.risk).toBe('single point of failure');
  });
});

import { controlPlanes, workers, type Cluster } from '@groundwork/cluster';
import { ANNOTATIONS } from '../build/labels.ts';
import { describe, type KubeObject } from '../model/object.ts';
import { get, podTemplateOf, replicasOf } from '../policy/pods.ts';
import { eligibleNodes } from './scheduling.ts';

export type Risk = 'single point of failure' | 'at risk' | 'ok';

export interface ResilienceItem {
  subject: string;
  risk: Risk;
  why: string;
}

function clusterItems(cluster: Cluster): ResilienceItem[] {
  const items: ResilienceItem[] = [];
  const cps = controlPlanes(cluster).length;
  if (cps === 1) items.push({ subject: 'control plane', risk: 'single point of failure', why: 'one control plane: the Kubernetes API and etcd stop when it does' });
  else if (cps % 2 === 0) items.push({ subject: 'control plane', risk: 'at risk', why: `${cps} etcd members tolerate ${cps / 2 - 1} failure(s), no more than ${cps - 1} would` });
  else items.push({ subject: 'control plane', risk: 'ok', why: `${cps} control planes: etcd keeps quorum with ${(cps - 1) / 2} down` });
  if (cps > 1) {
    items.push(
      cluster.network.vip
        ? { subject: 'API endpoint', risk: 'ok', why: `VIP ${cluster.network.vip.address} moves to a healthy control plane` }
        : { subject: 'API endpoint', risk: 'ok', why: `external endpoint ${cluster.endpoint ?? ''}` },
    );
  }
  const workerCount = workers(cluster).length;
  const schedulable = workerCount + (cluster.controlPlane.allowWorkloads ? cps : 0);
  if (schedulable <= 1) items.push({ subject: 'workload nodes', risk: 'single point of failure', why: `workloads can run on ${schedulable} node: every workload stops with it` });
  else items.push({ subject: 'workload nodes', risk: 'ok', why: `${schedulable} nodes take workloads` });
  return items;
}

function workloadItem(object: KubeObject, cluster: Cluster, budgets: KubeObject[]): ResilienceItem | undefined {
  const pod = podTemplateOf(object);
  if (!pod || object.kind === 'Job' || object.kind === 'CronJob' || object.kind === 'Pod') return undefined;
  const subject = describe(object);
  if (object.kind === 'DaemonSet') {
    const nodes = eligibleNodes(cluster, pod).length;
    return { subject, risk: 'ok', why: `one pod on each of ${nodes} node${nodes === 1 ? '' : 's'}` };
  }
  const replicas = replicasOf(object) ?? 1;
  if (replicas <= 1) {
    const reason = object.metadata.annotations?.[ANNOTATIONS.singleReplicaReason];
    return { subject, risk: reason ? 'at risk' : 'single point of failure', why: reason ? `one replica, accepted: ${reason}` : 'one replica: down while its node or pod restarts' };
  }
  const missing: string[] = [];
  const selected = budgets.some((b) => b.metadata.namespace === object.metadata.namespace && Object.entries((get(b, 'spec', 'selector', 'matchLabels') ?? {}) as Record<string, string>).every(([k, v]) => pod.labels[k] === v));
  if (!selected) missing.push('no PodDisruptionBudget');
  const spread = Array.isArray(pod.spec.topologySpreadConstraints) && pod.spec.topologySpreadConstraints.length > 0;
  if (!spread && get(pod.spec, 'affinity', 'podAntiAffinity') === undefined) missing.push('not spread over nodes');
  const nodes = eligibleNodes(cluster, pod).length;
  if (nodes < 2) missing.push(`only ${nodes} node can run it`);
  return missing.length ? { subject, risk: 'at risk', why: `${replicas} replicas, but ${missing.join(', ')}` } : { subject, risk: 'ok', why: `${replicas} replicas over ${nodes} eligible nodes, with a disruption budget` };
}

function storageItems(objects: KubeObject[]): ResilienceItem[] {
  const items: ResilienceItem[] = [];
  const claims = objects.flatMap((o) => {
    if (o.kind === 'PersistentVolumeClaim') return [{ owner: describe(o), storageClass: get(o, 'spec', 'storageClassName') }];
    if (o.kind === 'StatefulSet') {
      const templates = get(o, 'spec', 'volumeClaimTemplates');
      return Array.isArray(templates) ? templates.map((t) => ({ owner: describe(o), storageClass: get(t, 'spec', 'storageClassName') })) : [];
    }
    return [];
  });
  for (const claim of claims) {
    if (claim.storageClass === undefined || claim.storageClass === 'local-path') {
      items.push({ subject: claim.owner, risk: 'at risk', why: 'node-local volume (local-path): the data lives on one node and is lost with its disk unless backed up' });
    }
  }
  return items;
}

function loadBalancerItems(objects: KubeObject[]): ResilienceItem[] {
  return objects
    .filter((o) => o.kind === 'Service' && get(o, 'spec', 'type') === 'LoadBalancer')
    .map((o) => ({ subject: describe(o), risk: 'ok' as Risk, why: 'its address is announced by one node at a time; another node takes over when the lease expires (about 15 s)' }));
}

/** Single points of failure among the cluster and the rendered objects. */
export function resilience(objects: KubeObject[], cluster: Cluster): ResilienceItem[] {
  const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  return [
    ...clusterItems(cluster),
    ...objects.map((o) => workloadItem(o, cluster, budgets)).filter((i): i is ResilienceItem => i !== undefined),
    ...loadBalancerItems(objects),
    ...storageItems(objects),
  ];
}

const ICON: Record<Risk, string> = { 'single point of failure': '✗', 'at risk': '!', ok: '✓' };

export function resilienceSummary(items: ResilienceItem[]): string[] {
  const spof = items.filter((i) => i.risk === 'single point of failure');
  const risky = items.filter((i) => i.risk === 'at risk');
  return [
    `resilience: ${spof.length} single point${spof.length === 1 ? '' : 's'} of failure, ${risky.length} at risk, ${items.length - spof.length - risky.length} ok`,
    ...[...spof, ...risky].map((i) => `  ${ICON[i.risk]} ${i.subject}: ${i.why}`),
  ];
}

export function resilienceMarkdown(items: ResilienceItem[], title: string): string {
  const out = [`# Resilience: ${title}`, '', 'What keeps running when one node, pod or disk fails, computed from the rendered objects and the cluster file.', ''];
  out.push('| | Subject | Risk | Why |', '|---|---|---|---|');
  const order: Risk[] = ['single point of failure', 'at risk', 'ok'];
  for (const item of [...items].sort((a, b) => order.indexOf(a.risk) - order.indexOf(b.risk))) out.push(`| ${ICON[item.risk]} | ${item.subject} | ${item.risk} | ${item.why} |`);
  return `${out.join('\n')}\n`;
}

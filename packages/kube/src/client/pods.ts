import { describe, isRecord, type KubeObject } from '../model/object.ts';
import { podTemplateOf } from '../policy/pods.ts';
import type { KubeApi } from './api.ts';

/** Waiting reasons that mean a container will not come up by itself. */
const STUCK = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'RunContainerError']);

/** A restart this recent counts as "restarting"; an old one (a node reboot last week) does not. */
export const RECENT_RESTART_MS = 15 * 60_000;

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { reason?: string; exitCode?: number; finishedAt?: string } };
}

export interface PodHealth {
  pods: number;
  restarts: number;
  problems: string[];
}

/** What is wrong with one pod's containers right now, if anything. */
export function podProblems(pod: KubeObject, now = Date.now()): string[] {
  const status = isRecord(pod.status) ? pod.status : {};
  const containers = [...((status.initContainerStatuses as ContainerStatus[] | undefined) ?? []), ...((status.containerStatuses as ContainerStatus[] | undefined) ?? [])];
  const problems: string[] = [];
  for (const c of containers) {
    const where = `pod ${pod.metadata.namespace}/${pod.metadata.name} container ${c.name}`;
    const waiting = c.state?.waiting?.reason;
    const last = c.lastState?.terminated;
    const finished = last?.finishedAt ? Date.parse(last.finishedAt) : Number.NaN;
    if (waiting && STUCK.has(waiting)) problems.push(`${where}: ${waiting}${c.state?.waiting?.message ? ` (${c.state.waiting.message.split('\n')[0]})` : ''}`);
    else if (last && now - finished < RECENT_RESTART_MS) problems.push(`${where}: restarted ${Math.max(1, Math.round((now - finished) / 60_000))} min ago (${last.reason ?? 'exit'} ${last.exitCode ?? ''}, ${c.restartCount ?? 0} restarts in all)`.replace(' ,', ','));
  }
  return problems;
}

/** The pods of the rendered workloads: whether any is crash-looping, cannot pull its image, or restarted lately. */
export async function podHealth(api: KubeApi, workloads: KubeObject[], now = Date.now()): Promise<PodHealth> {
  const health: PodHealth = { pods: 0, restarts: 0, problems: [] };
  for (const workload of workloads) {
    const template = podTemplateOf(workload);
    const selector = isRecord(workload.spec) && isRecord(workload.spec.selector) ? workload.spec.selector.matchLabels : undefined;
    if (!template || !isRecord(selector) || workload.kind === 'Job' || workload.kind === 'CronJob') continue;
    const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${String(v)}`).join(',');
    const pods = await api.list('v1', 'Pod', { namespace: workload.metadata.namespace, labelSelector });
    health.pods += pods.length;
    for (const pod of pods) {
      const statuses = ((isRecord(pod.status) ? pod.status.containerStatuses : undefined) as ContainerStatus[] | undefined) ?? [];
      health.restarts += statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
      health.problems.push(...podProblems(pod, now).map((p) => `${describe(workload)}: ${p}`));
    }
  }
  return health;
}

import { UserError, formatDuration, type Logger } from '@groundwork/kit';
import { describe, rolloutState, type KubeApi, type KubeObject } from '@groundwork/kube';

/** How one container of a finished Job's pod ended. */
export interface ContainerEnd {
  name: string;
  exitCode: number | undefined;
  /** The termination message: what the container wrote to /dev/termination-log, or the end of its log. */
  message: string;
}

export interface JobEnd {
  succeeded: boolean;
  pod?: string;
  containers: ContainerEnd[];
}

/** Creates (server-side apply) the objects in order: a namespace before what lives in it. */
export async function createAll(api: KubeApi, objects: KubeObject[]): Promise<void> {
  for (const object of objects) await api.apply(object, { force: true });
}

function ends(pod: KubeObject): ContainerEnd[] {
  const status = (pod.status ?? {}) as { initContainerStatuses?: unknown[]; containerStatuses?: unknown[] };
  return [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].map((raw) => {
    const s = raw as { name: string; state?: { terminated?: { exitCode?: number; message?: string } } };
    return { name: s.name, exitCode: s.state?.terminated?.exitCode, message: s.state?.terminated?.message ?? '' };
  });
}

/**
 * Waits for a Job to complete or fail, saying what it waits on and for how long, then reads how each of its
 * pod's containers ended. A Job still running after `timeoutMs` is an error (the caller cleans up).
 */
export async function waitForJob(api: KubeApi, job: KubeObject, options: { log: Logger; timeoutMs: number; pollMs: number }): Promise<JobEnd> {
  const started = performance.now();
  let printed = -Infinity;
  for (;;) {
    const live = await api.get(job);
    const state = live ? rolloutState(live) : undefined;
    if (state?.done || state?.failed) {
      const pods = await api.list('v1', 'Pod', { namespace: job.metadata.namespace!, labelSelector: `job-name=${job.metadata.name}` });
      const pod = pods.sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')))[0];
      return { succeeded: !!state.done, ...(pod ? { pod: pod.metadata.name } : {}), containers: pod ? ends(pod) : [] };
    }
    const elapsed = performance.now() - started;
    if (elapsed > options.timeoutMs) throw new UserError(`timed out after ${formatDuration(elapsed)} waiting for ${describe(job)} (${state?.detail ?? 'no status'})`);
    if (elapsed - printed >= 15_000) {
      options.log.info(`waiting for ${describe(job)}: ${state?.detail ?? 'not started'} (${formatDuration(elapsed)})`);
      printed = elapsed;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** Deletes what a run created, newest first, and never fails the command over a leftover (it says so). */
export async function removeAll(api: KubeApi, objects: KubeObject[], log: Logger): Promise<void> {
  for (const object of [...objects].reverse()) {
    try {
      await api.delete(object);
    } catch (error) {
      log.warn(`could not delete ${describe(object)}: ${(error as Error).message}; delete it by hand`);
    }
  }
}

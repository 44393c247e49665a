import { UserError, formatDuration, type Logger } from '@groundwork/kit';
import { describe, isRecord, type KubeObject } from '../model/object.ts';
import type { KubeApi } from './api.ts';

export interface RolloutState {
  done: boolean;
  /** Failed for good (a Job that failed, a Deployment past its progress deadline). */
  failed?: boolean;
  detail: string;
}

const num = (value: unknown) => (typeof value === 'number' ? value : 0);

/** Whether a workload has finished rolling out, the way `kubectl rollout status` decides it. */
export function rolloutState(object: KubeObject): RolloutState | undefined {
  const spec = isRecord(object.spec) ? object.spec : {};
  const status = isRecord(object.status) ? object.status : {};
  const generation = num(object.metadata.generation);
  const observed = num(status.observedGeneration);
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Array<Record<string, unknown>>) : [];
  const current = observed >= generation;
  switch (object.kind) {
    case 'Deployment': {
      const want = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const stuck = conditions.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
      const done = current && num(status.updatedReplicas) === want && num(status.availableReplicas) === want && num(status.replicas) <= want;
      return { done, failed: stuck && !done, detail: `${num(status.availableReplicas)}/${want} available, ${num(status.updatedReplicas)} updated` };
    }
    case 'StatefulSet': {
      const want = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const done = current && num(status.readyReplicas) === want && num(status.updatedReplicas) === want && status.currentRevision === status.updateRevision;
      return { done, detail: `${num(status.readyReplicas)}/${want} ready, ${num(status.updatedReplicas)} updated` };
    }
    case 'DaemonSet': {
      const want = num(status.desiredNumberScheduled);
      const done = current && num(status.updatedNumberScheduled) === want && num(status.numberAvailable) === want;
      return { done, detail: `${num(status.numberAvailable)}/${want} nodes available, ${num(status.updatedNumberScheduled)} updated` };
    }
    case 'Job': {
      const complete = conditions.some((c) => c.type === 'Complete' && c.status === 'True');
      const failed = conditions.some((c) => c.type === 'Failed' && c.status === 'True');
      return { done: complete, failed, detail: complete ? 'complete' : failed ? 'failed' : `${num(status.active)} running` };
    }
    default:
      return undefined;
  }
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  log: Logger;
}

/**
 * Waits until every workload has rolled out, printing what is still pending (and for how long) whenever
 * it changes and every 15 seconds otherwise. Fails with the state of each one left when time runs out.
 */
export async function waitForRollouts(api: KubeApi, workloads: KubeObject[], options: WaitOptions): Promise<void> {
  const pending = new Map(workloads.filter((w) => rolloutState(w) !== undefined).map((w) => [describe(w), w]));
  if (pending.size === 0) return;
  const started = performance.now();
  let lastLine = '';
  let lastPrinted = 0;
  const states = new Map<string, RolloutState>();
  for (;;) {
    for (const [name, workload] of pending) {
      const live = await api.get(workload);
      const state = live ? rolloutState(live) : { done: false, detail: 'not found' };
      if (!state) continue;
      states.set(name, state);
      if (state.failed) throw new UserError(`${name} failed to roll out: ${state.detail}`);
      if (state.done) {
        pending.delete(name);
        options.log.ok(`${name} rolled out (${state.detail})`);
      }
    }
    const elapsed = performance.now() - started;
    if (pending.size === 0) return;
    const line = [...pending.keys()].map((n) => `${n} ${states.get(n)?.detail ?? ''}`).join('; ');
    if (line !== lastLine || elapsed - lastPrinted > 15_000) {
      options.log.info(`waiting for ${pending.size} rollout${pending.size === 1 ? '' : 's'} (${formatDuration(elapsed)}): ${line}`);
      lastLine = line;
      lastPrinted = elapsed;
    }
    if (elapsed > options.timeoutMs) {
      throw new UserError(`timed out after ${formatDuration(elapsed)} waiting for: ${[...pending.keys()].map((n) => `${n} (${states.get(n)?.detail ?? 'no status'})`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** Waits until a custom resource kind is served (its CRD registered and Established), e.g. by an operator. */
export async function waitForKind(api: KubeApi, apiVersion: string, kind: string, options: WaitOptions & { registeredBy?: string }): Promise<void> {
  const started = performance.now();
  let lastPrinted = -Infinity;
  while (!(await api.serves(apiVersion, kind))) {
    const elapsed = performance.now() - started;
    if (elapsed > options.timeoutMs) {
      throw new UserError(`timed out after ${formatDuration(elapsed)}: the API still does not serve ${apiVersion} ${kind}${options.registeredBy ? ` (its CRD is registered by ${options.registeredBy})` : ''}`);
    }
    if (elapsed - lastPrinted > 15_000) {
      options.log.info(`waiting for the API to serve ${apiVersion} ${kind}${options.registeredBy ? ` (registered by ${options.registeredBy})` : ''} (${formatDuration(elapsed)})`);
      lastPrinted = elapsed;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** Waits until a CRD reports Established. */
export async function waitForEstablished(api: KubeApi, crd: KubeObject, options: WaitOptions): Promise<void> {
  const started = performance.now();
  for (;;) {
    const live = await api.get(crd);
    const conditions = (isRecord(live?.status) && Array.isArray(live.status.conditions) ? live.status.conditions : []) as Array<Record<string, unknown>>;
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (performance.now() - started > options.timeoutMs) throw new UserError(`timed out waiting for ${describe(crd)} to be Established`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

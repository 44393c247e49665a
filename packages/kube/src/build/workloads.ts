import { createHash } from 'node:crypto';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IJobSpec } from 'kubernetes-models/batch/v1/JobSpec';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { appLabels, meta, objectName, selectorLabels, type App } from './labels.ts';
import { restrictedPodSecurity } from './security.ts';

export interface PodInput {
  containers: IContainer[];
  initContainers?: IContainer[];
  volumes?: IVolume[];
  /** The ServiceAccount to run as; without one, no API token is mounted at all. */
  serviceAccount?: string;
  /** Replaces the restricted pod defaults (an exception, so it has to be spelled out). */
  security?: IPodSecurityContext;
  /** Pod template annotations, e.g. a config hash that rolls the pods when their config changes. */
  annotations?: Record<string, string>;
  /** Labels besides the app's, e.g. one another layer's network policy admits the pods by. */
  labels?: Record<string, string>;
  /** Anything else of the pod spec: tolerations, hostNetwork, priorityClassName, affinity, … */
  spec?: Partial<IPodSpec>;
}

function podTemplate(app: App, pod: PodInput, extraSpec: Partial<IPodSpec> = {}): IPodTemplateSpec {
  return {
    metadata: { labels: { ...appLabels(app), ...pod.labels }, ...(pod.annotations ? { annotations: pod.annotations } : {}) },
    spec: {
      // The ServiceAccounts themselves do not automount; a pod that names one opts in explicitly.
      ...(pod.serviceAccount ? { serviceAccountName: pod.serviceAccount, automountServiceAccountToken: true } : { automountServiceAccountToken: false }),
      securityContext: pod.security ?? restrictedPodSecurity(),
      containers: pod.containers,
      ...(pod.initContainers?.length ? { initContainers: pod.initContainers } : {}),
      ...(pod.volumes?.length ? { volumes: pod.volumes } : {}),
      enableServiceLinks: false,
      ...extraSpec,
      ...pod.spec,
    },
  };
}

/** Spreads replicas over nodes; soft, so a one-node cluster still schedules them. */
export function spreadOverNodes(app: App): NonNullable<IPodSpec['topologySpreadConstraints']> {
  return [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels(app) } }];
}

export interface DeploymentInput {
  replicas: number;
  pod: PodInput;
  /** Recreate for singletons that must never run twice (e.g. holding a RWO volume). */
  strategy?: 'RollingUpdate' | 'Recreate';
  annotations?: Record<string, string>;
}

export function deployment(app: App, input: DeploymentInput): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(app, objectName(app), input.annotations ? { annotations: input.annotations } : {}),
    spec: {
      replicas: input.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(app) },
      strategy:
        input.strategy === 'Recreate'
          ? { type: 'Recreate' }
          : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: input.replicas > 1 ? 1 : 0, maxSurge: 1 } },
      template: podTemplate(app, input.pod, input.replicas > 1 ? { topologySpreadConstraints: spreadOverNodes(app) } : {}),
    },
  };
}

export interface DaemonSetInput {
  pod: PodInput;
  maxUnavailable?: number;
}

export function daemonSet(app: App, input: DaemonSetInput): IDaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta(app),
    spec: {
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(app) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: input.maxUnavailable ?? 1 } },
      template: podTemplate(app, input.pod),
    },
  };
}

export interface VolumeClaim {
  name: string;
  size: string;
  /** Defaults to the cluster's default StorageClass. */
  storageClass?: string;
}

export interface StatefulSetInput {
  replicas: number;
  pod: PodInput;
  /** Per-pod volumes, each mounted by name in the pod's containers. */
  volumeClaims?: VolumeClaim[];
  /** The headless Service giving pods stable names; the app's own Service by default. */
  serviceName?: string;
  annotations?: Record<string, string>;
}

/** A StatefulSet: stable pod names and one volume per pod that outlives the pod. */
export function statefulSet(app: App, input: StatefulSetInput): IStatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(app, objectName(app), input.annotations ? { annotations: input.annotations } : {}),
    spec: {
      replicas: input.replicas,
      revisionHistoryLimit: 3,
      serviceName: input.serviceName ?? objectName(app),
      selector: { matchLabels: selectorLabels(app) },
      // Volumes stay when the StatefulSet goes: deleting data is never a side effect of pruning.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: podTemplate(app, input.pod, input.replicas > 1 ? { topologySpreadConstraints: spreadOverNodes(app) } : {}),
      ...(input.volumeClaims?.length
        ? {
            volumeClaimTemplates: input.volumeClaims.map((claim) => ({
              metadata: { name: claim.name, labels: selectorLabels(app) },
              spec: {
                accessModes: ['ReadWriteOnce'],
                ...(claim.storageClass ? { storageClassName: claim.storageClass } : {}),
                resources: { requests: { storage: claim.size } },
              },
            })),
          }
        : {}),
    },
  };
}

export interface JobInput {
  pod: PodInput;
  /** A hard stop for one run: a hung backup must fail loudly, not hold the next one off forever. */
  activeDeadlineSeconds: number;
  /** Pods retried before the Job counts as failed. */
  backoffLimit?: number;
  /** Finished Jobs (and their pods and logs) are deleted after this long; CronJobs keep a history instead. */
  ttlSecondsAfterFinished?: number;
}

/** A run-to-completion pod: never restarted in place, so every failure is a new pod with its own logs. */
function jobSpec(app: App, input: JobInput): IJobSpec {
  return {
    backoffLimit: input.backoffLimit ?? 1,
    activeDeadlineSeconds: input.activeDeadlineSeconds,
    ...(input.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: input.ttlSecondsAfterFinished } : {}),
    template: podTemplate(app, input.pod, { restartPolicy: 'Never' }),
  };
}

export function job(app: App, name: string, input: JobInput): IJob {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: meta(app, name), spec: jobSpec(app, input) };
}

export interface CronJobInput extends JobInput {
  schedule: string;
  /** The zone the schedule is read in; UTC unless said otherwise, so it never moves with daylight saving. */
  timeZone?: string;
}

/**
 * A scheduled Job. Runs never overlap (a slow run delays the next instead of racing it), a missed start is
 * still taken within an hour, and the last three good and bad runs stay for their status and logs.
 */
export function cronJob(app: App, input: CronJobInput): ICronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta(app),
    spec: {
      schedule: input.schedule,
      timeZone: input.timeZone ?? 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { metadata: { labels: appLabels(app) }, spec: jobSpec(app, input) },
    },
  };
}

/** Keeps at least `minAvailable` pods running through voluntary disruptions such as node drains. */
export function disruptionBudget(app: App, minAvailable = 1): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(app),
    spec: { minAvailable, selector: { matchLabels: selectorLabels(app) } },
  };
}

/** A short digest of configuration that pods read at start, so changing it rolls them. */
export function configHash(...values: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 16);
}

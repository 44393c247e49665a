import { N8N_DATABASE_CLIENT_LABELS, backupPlan, type LoadedCluster } from '@groundwork/cluster';
import { isolatedNamespace, job, networkPolicy, type KubeObject } from '@groundwork/kube';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { N8N_TABLES } from '../runner/drill.ts';
import type { Kind } from '../runner/naming.ts';
import { ENV } from '../runner/settings.ts';
import { MOUNTS, jobApp, namespaceOf } from '../names.ts';
import { n8nEnv, postgresEnv } from '../config/env.ts';
import { podSecurity, podVolumes, runnerContainer, scriptContainer } from '../config/pod.ts';
import { DUMP_FILE } from '../scripts/postgres.ts';
import { bucketEgress } from './network.ts';
import { runnerConfig } from './runner.ts';

/**
 * The Jobs `gw-dr` starts on demand: restores and drills. They are built from the same pieces as the
 * scheduled backups and checked by verify like them, but never rendered: applying them would run them.
 * Each fetches and decrypts with the cluster's age identity, which exists in the cluster only for the run,
 * in a Secret deleted afterwards.
 */

export const IDENTITY_KEY = 'age.key';

export interface OnDemand {
  namespace: string;
  /** The Job's name, also the prefix of the Secret that carries the identity. */
  name: string;
  /** Which backup: latest, a time or a file name. */
  at: string;
}

const identitySecretName = (run: OnDemand) => `${run.name}-identity`;

/** The runner's fetch step, with the identity mounted for it alone. */
function fetchContainer(cluster: LoadedCluster, run: OnDemand, kind: Kind, out: string): IContainer {
  return runnerContainer(cluster, 'fetch', ['fetch', kind, out, `--at=${run.at}`], {
    env: { [ENV.identity]: `${MOUNTS.identity}/${IDENTITY_KEY}` },
    mounts: [{ name: 'identity', mountPath: MOUNTS.identity, readOnly: true }],
  });
}

function identityVolume(run: OnDemand) {
  return { name: 'identity', secret: { secretName: identitySecretName(run), defaultMode: 0o440 } };
}

/** Twice the database volume: the dump, and the database it becomes. */
function restoreRoom(cluster: LoadedCluster): string {
  const match = /^(\d+)(Mi|Gi|Ti)$/.exec(cluster.config.features.n8n.postgres.volumeSize)!;
  return `${Number(match[1]) * 2}${match[2]}`;
}

/** The Secret carrying the identity (and, in a scratch namespace, the bucket's key) for one run. */
export function identitySecret(run: OnDemand, identity: string, extra: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: identitySecretName(run), namespace: run.namespace, labels: { 'app.kubernetes.io/part-of': 'dr', 'app.kubernetes.io/managed-by': 'groundwork' } },
    type: 'Opaque',
    stringData: { [IDENTITY_KEY]: identity, ...extra },
  };
}

/** Restores the n8n database in place: fetch, then pg_restore into the running server (n8n stopped). */
export function postgresRestoreJob(cluster: LoadedCluster, run: OnDemand): KubeObject {
  return job(jobApp(cluster, 'postgres-restore', 'restore'), run.name, {
    activeDeadlineSeconds: 3600,
    backoffLimit: 0,
    ttlSecondsAfterFinished: 86_400,
    pod: {
      security: podSecurity(),
      labels: { ...N8N_DATABASE_CLIENT_LABELS },
      volumes: podVolumes(cluster, restoreRoom(cluster), [identityVolume(run)]),
      initContainers: [fetchContainer(cluster, run, 'postgres', `${MOUNTS.work}/${DUMP_FILE}`)],
      containers: [scriptContainer('restore', 'postgres', 'postgres-restore.sh', postgresEnv(), { cpu: '100m', memory: '64Mi', memoryLimit: '256Mi' })],
    },
  }) as unknown as KubeObject;
}

/** Imports workflows and credentials from an export with n8n's own import commands. */
export function n8nRestoreJob(cluster: LoadedCluster, run: OnDemand): KubeObject {
  return job(jobApp(cluster, 'n8n-restore', 'restore'), run.name, {
    activeDeadlineSeconds: 1800,
    backoffLimit: 0,
    ttlSecondsAfterFinished: 86_400,
    pod: {
      security: podSecurity(),
      labels: { ...N8N_DATABASE_CLIENT_LABELS },
      volumes: podVolumes(cluster, '1Gi', [identityVolume(run)]),
      initContainers: [fetchContainer(cluster, run, 'n8n', `${MOUNTS.work}/n8n`)],
      containers: [scriptContainer('import', 'n8n', 'n8n-import.sh', n8nEnv(cluster), { cpu: '100m', memory: '384Mi', memoryLimit: '1Gi' })],
    },
  }) as unknown as KubeObject;
}

/** How old the database backup a drill restores may be. */
export const drillAllowedAge = (cluster: LoadedCluster) => backupPlan(cluster.config).find((p) => p.kind === 'postgres')?.allowedAgeSeconds ?? 0;

/**
 * A restore drill: fetch the newest (or chosen) database backup, restore it into a PostgreSQL that lives
 * only in the pod's work folder, and report. It touches neither the running database nor its network.
 */
export function drillJob(cluster: LoadedCluster, run: OnDemand): KubeObject {
  // From a scratch namespace the volume's claim is out of reach: the drill reads the bucket alone.
  if (run.namespace !== namespaceOf(cluster)) cluster = bucketOnly(cluster);
  return job({ ...jobApp(cluster, 'drill', 'drill'), namespace: run.namespace }, run.name, {
    activeDeadlineSeconds: 3600,
    backoffLimit: 0,
    pod: {
      security: podSecurity(),
      volumes: podVolumes(cluster, restoreRoom(cluster), [identityVolume(run)]),
      initContainers: [
        fetchContainer(cluster, run, 'postgres', `${MOUNTS.work}/${DUMP_FILE}`),
        scriptContainer('restore', 'postgres', 'postgres-drill.sh', { [ENV.work]: MOUNTS.work }, { cpu: '250m', memory: '256Mi', memoryLimit: '1Gi' }),
      ],
      containers: [
        runnerContainer(cluster, 'report', ['drill-report', `${MOUNTS.work}/${DUMP_FILE}`], {
          env: { [ENV.allowedAge]: String(drillAllowedAge(cluster)), [ENV.requiredTables]: N8N_TABLES.join(',') },
        }),
      ],
    },
  }) as unknown as KubeObject;
}

/**
 * Everything a drill needs in its scratch namespace: the namespace itself (restricted, default-deny, DNS),
 * the way to the bucket, the runner, and the Job. The Secrets come separately, decrypted at run time.
 */
export function drillNamespaceObjects(cluster: LoadedCluster, run: OnDemand): KubeObject[] {
  const objects = [...isolatedNamespace(run.namespace, 'restricted')] as unknown as KubeObject[];
  const bucket = bucketEgress(cluster);
  if (bucket.length) objects.push(networkPolicy(run.namespace, 'backup-bucket', { egress: bucket }) as unknown as KubeObject);
  objects.push(runnerConfig(cluster, run.namespace) as unknown as KubeObject, drillJob(cluster, run));
  return objects;
}

/** The cluster as seen from outside the dr namespace: the bucket is its only target. */
function bucketOnly(cluster: LoadedCluster): LoadedCluster {
  const { dr } = cluster.config.features;
  return { ...cluster, config: { ...cluster.config, features: { ...cluster.config.features, dr: { ...dr, volume: undefined } } } };
}

/** Drills read the bucket from a scratch namespace; a cluster whose only target is the volume drills next to it. */
export function drillNamespace(cluster: LoadedCluster, stamp: string): string {
  return cluster.config.features.dr.s3 ? `${namespaceOf(cluster)}-drill-${stamp}`.slice(0, 63) : namespaceOf(cluster);
}


import type { LoadedCluster } from '@groundwork/cluster';
import { container, restrictedPodSecurity, type ContainerSpec, type PodInput, type Resources } from '@groundwork/kube';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { MOUNTS, RUNNER_CONFIG, VOLUME_CLAIM } from '../names.ts';
import { IMAGE_USERS, IMAGES } from '../versions.ts';
import { runnerEnv } from './env.ts';

/**
 * The pieces every dr pod is made of: the runner ConfigMap (program and scripts, read-only), a work folder
 * (the only writable place besides the volume target), and containers in the images' own users.
 */

const RUNNER_VOLUME = 'runner';
const WORK_VOLUME = 'work';
const TARGET_VOLUME = 'backups';

export const runnerMount: IVolumeMount = { name: RUNNER_VOLUME, mountPath: MOUNTS.runner, readOnly: true };
export const workMount: IVolumeMount = { name: WORK_VOLUME, mountPath: MOUNTS.work };

/** The volume target, when the cluster file asks for one. */
export function targetMounts(cluster: LoadedCluster): IVolumeMount[] {
  return cluster.config.features.dr.volume ? [{ name: TARGET_VOLUME, mountPath: MOUNTS.volume }] : [];
}

/** `workSize` bounds the work folder: a runaway dump fills it and fails, not the node's disk. */
export function podVolumes(cluster: LoadedCluster, workSize: string, extra: IVolume[] = []): IVolume[] {
  return [
    { name: RUNNER_VOLUME, configMap: { name: RUNNER_CONFIG, defaultMode: 0o444 } },
    { name: WORK_VOLUME, emptyDir: { sizeLimit: workSize } },
    ...(cluster.config.features.dr.volume ? [{ name: TARGET_VOLUME, persistentVolumeClaim: { claimName: VOLUME_CLAIM } }] : []),
    ...extra,
  ];
}

const user = (uid: number) => ({ runAsUser: uid, runAsGroup: uid });

/** The runner: checks, encrypts, stores, fetches (node image, its `node` user). */
export function runnerContainer(cluster: LoadedCluster, name: string, args: string[], extra: Pick<ContainerSpec, 'env' | 'mounts'> & { volumeTarget?: boolean } = {}): ReturnType<typeof container> {
  const volumeTarget = extra.volumeTarget !== false;
  return container({
    name,
    image: IMAGES.runner,
    command: ['node', `${MOUNTS.runner}/runner.mjs`],
    args,
    env: { ...runnerEnv(cluster, { volumeTarget }), ...extra.env },
    // Measured: 145 MB peak storing a 200 MB dump (streamed in 64 KiB chunks, so it does not grow with the size).
    resources: { cpu: '50m', memory: '160Mi', memoryLimit: '384Mi' },
    mounts: [runnerMount, workMount, ...(volumeTarget ? targetMounts(cluster) : []), ...(extra.mounts ?? [])],
    security: user(IMAGE_USERS.runner),
  });
}

/** A script of the runner ConfigMap in another image (PostgreSQL's tools, n8n's CLI). */
export function scriptContainer(name: string, image: keyof typeof IMAGES, script: string, env: ContainerSpec['env'], resources: Resources): ReturnType<typeof container> {
  return container({
    name,
    image: IMAGES[image],
    command: ['sh', `${MOUNTS.runner}/${script}`],
    env,
    resources,
    mounts: [runnerMount, workMount],
    security: user(IMAGE_USERS[image]),
  });
}

/** Pod-level security: restricted, files group-owned by the runner's group so every container can share them. */
export function podSecurity(): PodInput['security'] {
  return restrictedPodSecurity(IMAGE_USERS.runner);
}

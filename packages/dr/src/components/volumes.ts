import type { AppSpec, BackupPlan, LoadedCluster } from '@groundwork/cluster';
import { appVolumeClaim } from '@groundwork/apps';
import { container, cronJob, formatMemory, networkPolicy, parseQuantity, restrictedPodSecurity } from '@groundwork/kube';
import { MOUNTS, RUNNER_CONFIG } from '../names.ts';
import { runnerMount, runnerContainer, workMount } from '../config/pod.ts';
import { IMAGES } from '../versions.ts';
import { bucketEgress } from './network.ts';
import { runnerConfig } from './runner.ts';

/** The label of the pods that archive an app's volumes; the bucket policy in the app's namespace selects them. */
export const VOLUME_BACKUP_LABELS = { 'groundwork.dev/volume-backup': 'true' } as const;

const ARCHIVE = 'volume.tgz';
const SOURCE = '/source';

/**
 * An app's volumes archived where the claims are, in the app's namespace: the runner's program and scripts
 * and a way to the bucket are rendered there too (the bucket key is a copy dr declares for that namespace).
 * A claim is ReadWriteOnce, so the job's pod lands on the node whose disk holds it (local-path's volumes
 * carry that node's affinity) and mounts it read-only beside the app.
 */
export function appVolumeBackups(cluster: LoadedCluster, app: AppSpec, plans: BackupPlan[]): object[] {
  return [
    runnerConfig(cluster, app.namespace),
    networkPolicy(app.namespace, 'volume-backup', { pods: { ...VOLUME_BACKUP_LABELS }, egress: bucketEgress(cluster) }),
    ...plans.map((plan) => volumeBackup(cluster, app, plan)),
  ];
}

function volumeBackup(cluster: LoadedCluster, app: AppSpec, plan: BackupPlan): object {
  const volume = app.volumes[plan.volume!]!;
  // tar in the runner's image, as the app's own user: it reads every file the app wrote, even its 0600 ones.
  const archive = container({
    name: 'archive',
    image: IMAGES.runner,
    command: ['tar', '--create', '--gzip', `--file=${MOUNTS.work}/${ARCHIVE}`, `--directory=${SOURCE}`, '.'],
    resources: { cpu: '100m', memory: '32Mi', memoryLimit: '128Mi' },
    mounts: [workMount, { name: 'source', mountPath: SOURCE, readOnly: true }],
    security: { runAsUser: app.user, runAsGroup: app.user },
  });
  return cronJob({ name: plan.job, namespace: app.namespace, component: 'backup', partOf: 'dr' }, {
    schedule: plan.schedule,
    activeDeadlineSeconds: 3600,
    pod: {
      // The app's group owns the claim's files already: the same fsGroup leaves their ownership as it is.
      security: restrictedPodSecurity(app.user),
      labels: { ...VOLUME_BACKUP_LABELS },
      annotations: { 'groundwork.dev/runner-hash': runnerConfig(cluster, app.namespace).metadata!.annotations!['groundwork.dev/config-hash']! },
      volumes: [
        { name: runnerMount.name, configMap: { name: RUNNER_CONFIG, defaultMode: 0o444 } },
        // Room for the archive and its encrypted copy: twice the claim at most.
        { name: workMount.name, emptyDir: { sizeLimit: formatMemory(parseQuantity(volume.size) * 2) } },
        { name: 'source', persistentVolumeClaim: { claimName: appVolumeClaim(app, plan.volume!), readOnly: true } },
      ],
      initContainers: [archive],
      containers: [runnerContainer(cluster, 'store', ['store', plan.kind, `${MOUNTS.work}/${ARCHIVE}`], { volumeTarget: false })],
    },
  });
}

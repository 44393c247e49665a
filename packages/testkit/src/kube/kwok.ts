import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { moduleDirOf, programPath } from '../programs.ts';
import { startProgram, type Program } from './process.ts';

/**
 * kwok plays the kubelets: it manages the Nodes annotated `kwok.x-k8s.io/node: fake`, keeps their leases, and
 * moves the pods the real scheduler binds to them through their lifecycle with kwok's own "fast" stages (read
 * from kwok's module at the pinned version): Pending → Running and Ready, Job pods → Succeeded, deleted pods
 * gone. Containers never run.
 */

export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

export interface KwokOptions {
  /**
   * Pods kwok must leave alone (a pod runner runs them for real), as kwok selector expressions every pod stage
   * must also match: `{ key: '.metadata.namespace', operator: 'NotIn', values: ['dr'] }`, or CEL:
   * `{ cel: { expression: "!self.metadata.namespace.startsWith('dr')" } }`.
   */
  leavePods?: object[];
  /** More Stage documents (YAML objects). */
  stages?: object[];
  /**
   * StorageClasses whose provisioner cannot run here: kwok plays it (see provisionerStages). The real scheduler
   * still picks the node and the real PV controller still binds the claim.
   */
  provisionFor?: string[];
}

/**
 * What a node-local dynamic provisioner such as local-path does for a WaitForFirstConsumer claim, after kwok's
 * own volume stages (kustomize/stage/volume/fast): once the scheduler has written the chosen node on the claim,
 * create a hostPath PersistentVolume of the requested size pinned to that node and pre-bound to the claim (the
 * PV controller in kube-controller-manager then completes the binding); delete it once released.
 */
export function provisionerStages(storageClasses: string[]): object[] {
  const classes = `[${storageClasses.map((c) => `'${c}'`).join(', ')}]`;
  return [
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Stage',
      metadata: { name: 'pvc-provision-on-selected-node' },
      spec: {
        resourceRef: { apiGroup: 'v1', kind: 'PersistentVolumeClaim' },
        selector: {
          matchExpressions: [
            { cel: { expression: `has(self.spec.storageClassName) && self.spec.storageClassName in ${classes}` } },
            { cel: { expression: '!has(self.metadata.deletionTimestamp) && !has(self.spec.volumeName)' } },
            { cel: { expression: "has(self.metadata.annotations) && 'volume.kubernetes.io/selected-node' in self.metadata.annotations" } },
          ],
        },
        steps: [
          {
            apply: {
              template: [
                'apiVersion: v1',
                'kind: PersistentVolume',
                'metadata:',
                '  name: pvc-{{ .metadata.uid }}',
                '  annotations:',
                '    pv.kubernetes.io/provisioned-by: {{ index .metadata.annotations "volume.kubernetes.io/storage-provisioner" | default "kwok.x-k8s.io/volume" | Quote }}',
                'spec:',
                '  accessModes:',
                '  {{ YAML .spec.accessModes 1 }}',
                '  capacity:',
                '  {{ YAML .spec.resources.requests 2 }}',
                '  persistentVolumeReclaimPolicy: Delete',
                '  storageClassName: {{ .spec.storageClassName | Quote }}',
                '  volumeMode: {{ default "Filesystem" .spec.volumeMode | Quote }}',
                '  claimRef:',
                '    apiVersion: v1',
                '    kind: PersistentVolumeClaim',
                '    name: {{ .metadata.name | Quote }}',
                '    namespace: {{ .metadata.namespace | Quote }}',
                '    uid: {{ .metadata.uid | Quote }}',
                '  hostPath:',
                '    path: /var/mnt/local-path-provisioner/pvc-{{ .metadata.uid }}',
                '    type: DirectoryOrCreate',
                '  nodeAffinity:',
                '    required:',
                '      nodeSelectorTerms:',
                '      - matchExpressions:',
                '        - key: kubernetes.io/hostname',
                '          operator: In',
                '          values:',
                '          - {{ index .metadata.annotations "volume.kubernetes.io/selected-node" | Quote }}',
              ].join('\n'),
            },
          },
        ],
      },
    },
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Stage',
      metadata: { name: 'pv-delete-released' },
      spec: {
        resourceRef: { apiGroup: 'v1', kind: 'PersistentVolume' },
        selector: { matchExpressions: [{ cel: { expression: `has(self.spec.storageClassName) && self.spec.storageClassName in ${classes} && self.status.phase == 'Released' && !has(self.metadata.deletionTimestamp)` } }] },
        steps: [{ delete: true }],
      },
    },
  ];
}

const UPSTREAM_STAGES = ['node/fast/node-initialize.yaml', 'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml', 'pod/fast/pod-ready.yaml', 'pod/fast/pod-complete.yaml', 'pod/fast/pod-delete.yaml'];

type Stage = { spec: { resourceRef: { kind: string }; selector?: { matchExpressions?: object[] } } };

function stages(options: KwokOptions): object[] {
  const base = join(moduleDirOf('kwok'), 'kustomize', 'stage');
  const upstream = UPSTREAM_STAGES.map((file) => parseAllDocuments(readFileSync(join(base, file), 'utf8'))[0]!.toJSON() as Stage);
  for (const stage of upstream) {
    if (stage.spec.resourceRef.kind !== 'Pod' || !options.leavePods?.length) continue;
    stage.spec.selector = { ...stage.spec.selector, matchExpressions: [...(stage.spec.selector?.matchExpressions ?? []), ...options.leavePods] };
  }
  return [...upstream, ...(options.provisionFor?.length ? provisionerStages(options.provisionFor) : []), ...(options.stages ?? [])];
}

export async function startKwok(dir: string, kubeconfig: string, options: KwokOptions): Promise<Program> {
  const config = join(dir, 'kwok.yaml');
  writeFileSync(config, stages(options).map((s) => `---\n${stringify(s)}`).join(''));
  return startProgram(
    'kwok',
    programPath('kwok'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--config=${config}`,
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
      // kwokctl's default: nodes renew a Lease, as kubelets do, so the node-lifecycle controller sees them alive.
      '--node-lease-duration-seconds=40',
    ],
    join(dir, 'logs', 'kwok.log'),
    // kwok reads ~/.kwok/kwok.yaml when no config is given; HOME points elsewhere so a user's file never leaks in.
    { ...process.env, HOME: dir },
  );
}

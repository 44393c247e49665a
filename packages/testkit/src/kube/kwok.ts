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
   * Pods kwok must leave alone (another test double runs them for real), as kwok selector expressions added to
   * every pod stage, e.g. `{ key: '.metadata.namespace', operator: 'NotIn', values: ['dr'] }`.
   */
  leavePods?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
  /** More Stage documents (YAML objects), e.g. a provisioner's stand-in. */
  stages?: object[];
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
  return [...upstream, ...(options.stages ?? [])];
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

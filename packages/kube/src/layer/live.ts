import { UserError } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { KubeApiError, type KubeApi } from '../client/api.ts';
import { canonicalSecret, withMembership } from '../client/apply.ts';
import { applySetFor } from '../client/applyset.ts';
import { connect } from '../client/connect.ts';
import { drift } from '../client/diff.ts';
import { guardIdentity } from '../client/identity.ts';
import { podHealth } from '../client/pods.ts';
import { rolloutState } from '../client/wait.ts';
import { describe, type KubeObject } from '../model/object.ts';
import { phaseOf } from '../model/order.ts';
import type { KubeLayer, SecretSource } from './definition.ts';
import { allObjects, type RenderedLayer } from './render.ts';
import { decryptedSecrets } from './run.ts';

async function nodeStatus(api: KubeApi, cluster: LoadedCluster): Promise<{ line: string; problems: string[] }> {
  const nodes = await api.list('v1', 'Node');
  const ready = new Set(
    nodes
      .filter((n) => ((n.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name),
  );
  const problems: string[] = [];
  for (const node of cluster.config.nodes) {
    if (!nodes.some((n) => n.metadata.name === node.name)) problems.push(`node ${node.name} has not joined the cluster`);
    else if (!ready.has(node.name)) problems.push(`node ${node.name} is not Ready`);
  }
  return { line: `${ready.size}/${cluster.config.nodes.length} Ready`, problems };
}

/** Each rendered object exists and has not drifted: a server-side dry run of it would change nothing. */
async function objectStatus(api: KubeApi, layer: string, objects: KubeObject[]): Promise<{ line: string; problems: string[]; live: Map<KubeObject, KubeObject> }> {
  const id = applySetFor(layer).id;
  const problems: string[] = [];
  const live = new Map<KubeObject, KubeObject>();
  let drifted = 0;
  for (const object of objects) {
    const name = describe(object);
    if (phaseOf(object) === 'custom' && !(await api.serves(object.apiVersion, object.kind))) {
      problems.push(`${name}: missing (the API does not serve ${object.apiVersion} ${object.kind})`);
      continue;
    }
    const current = await api.get(object);
    if (!current) {
      problems.push(`${name}: missing`);
      continue;
    }
    live.set(object, current);
    try {
      const fields = drift(current, await api.apply(withMembership(canonicalSecret(object), id), { dryRun: true }));
      if (fields.length) {
        drifted++;
        problems.push(`${name}: drifted from the rendered state: ${fields.join(', ')}`);
      }
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 409)) throw error;
      drifted++;
      problems.push(`${name}: fields are owned by another field manager: ${error.causes.map((c) => `${c.message ?? ''} ${c.field ?? ''}`.trim()).join('; ') || error.message}`);
    }
  }
  return { line: `${live.size}/${objects.length} present, ${drifted} drifted`, problems, live };
}

function workloadStatus(objects: KubeObject[], live: Map<KubeObject, KubeObject>): { line: string; problems: string[] } {
  const problems: string[] = [];
  let total = 0;
  let available = 0;
  for (const object of objects) {
    const current = live.get(object);
    const state = current ? rolloutState(current) : rolloutState(object);
    if (!state) continue;
    total++;
    if (current && state.done) available++;
    else if (current) problems.push(`${describe(object)} is not available: ${state.detail}`);
  }
  return { line: `${available}/${total} available`, problems };
}

/**
 * The live half of verify: the cluster answers to this name, every rendered object is there and has not
 * drifted, nodes are Ready, workloads available, and the layer's own checks pass. Ends with a one-screen
 * status summary.
 */
export async function liveVerify(root: string, cluster: LoadedCluster, layer: KubeLayer, rendered: RenderedLayer, secrets: SecretSource, env: NodeJS.ProcessEnv): Promise<{ problems: string[]; notes: string[] }> {
  const api = connect(root, cluster.name, `groundwork-${layer.name}`, env);
  const problems: string[] = [];
  const notes: string[] = [];
  try {
    if ((await guardIdentity(api, cluster.name, { record: false })) === 'unrecorded') notes.push('the cluster has no recorded identity yet (the first apply records it)');
  } catch (error) {
    if (error instanceof UserError) return { problems: [error.message], notes };
    throw error;
  }
  let objects = allObjects(rendered);
  if (rendered.secrets.length) {
    if (await secrets.canDecrypt(root, cluster)) objects = [...objects, ...(await decryptedSecrets(root, cluster, rendered, secrets))];
    else notes.push(`${rendered.secrets.length} Secret(s) not compared: no identity at hand to decrypt them`);
  }
  const nodes = await nodeStatus(api, cluster);
  const objectsState = await objectStatus(api, layer.name, objects);
  const workloads = workloadStatus(objects, objectsState.live);
  const pods = await podHealth(api, objects);
  problems.push(...nodes.problems, ...objectsState.problems, ...workloads.problems, ...pods.problems);
  const lines: Array<[string, string]> = [
    ['nodes', nodes.line],
    ['objects', objectsState.line],
    ['workloads', workloads.line],
    ['pods', `${pods.pods} running, ${pods.problems.length ? `${pods.problems.length} restarting or stuck` : 'none restarting'} (${pods.restarts} restarts in all)`],
  ];
  for (const check of layer.liveChecks ?? []) {
    const result = await check.run(api, { cluster, objects });
    lines.push([check.name, result.detail]);
    if (!result.ok) problems.push(`${check.name}: ${result.detail}`);
  }
  notes.push(`live status of ${layer.name} on ${api.server}:`, ...lines.map(([k, v]) => `  ${k.padEnd(10)} ${v}`));
  return { problems, notes };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, UserError } from '@groundwork/kit';
import { programVersion } from '@groundwork/testkit/programs';
import { ApiFront, addNodes, describeRequest, mutatingRequests, startControlPlane, testNode, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { KubeApi } from './api.ts';
import { applyDesiredState, applySummary, type ApplyOptions, type DesiredState } from './apply.ts';
import { APPLYSET, applySetFor } from './applyset.ts';
import type { KubeObject } from '../model/object.ts';

/**
 * The apply engine against a real kube-apiserver (with its controllers, a scheduler and two kwok nodes), started
 * as Talos starts it with Pod Security enforcing `restricted`. What the engine sends is read back from the API
 * server's audit log; each test works in a namespace and layer of its own.
 */

const labels = (layer: string, cluster = 'lab') => ({ 'app.kubernetes.io/managed-by': 'groundwork', 'groundwork.dev/layer': layer, 'groundwork.dev/cluster': cluster });

/** A pod template the `restricted` Pod Security level admits. */
function podTemplate(app: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: { labels: { app } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: app, image: 'nginx:1.27', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
      ...extra,
    },
  };
}

function objects(ns: string, layer = ns, cluster = 'lab'): KubeObject[] {
  const l = labels(layer, cluster);
  return [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns, labels: l }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate('web') } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns, labels: l }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: ns, labels: l }, data: { greeting: 'hello' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-token', namespace: ns, labels: l }, stringData: { token: 's3cr3t-value' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-reader`, labels: l }, rules: [] },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: l } },
  ];
}

describe('the apply engine against a real Kubernetes API server', () => {
  let plane: ControlPlane;
  let api: KubeApi;
  let log: string[];
  let diffs: string[];

  beforeAll(async () => {
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver')) });
    await addNodes(plane.client, [testNode('node-a', { labels: { zone: 'a' } }), testNode('node-b', { labels: { zone: 'b' } })]);
    api = KubeApi.fromKubeconfig(plane.kubeconfig(), 'groundwork-demo');
  }, 180_000);
  afterAll(() => plane?.stop());

  const options = (overrides: Partial<ApplyOptions> = {}): ApplyOptions => {
    log = [];
    diffs = [];
    return {
      dryRun: false,
      forceConflicts: false,
      allowDataLoss: false,
      timeoutMs: 60_000,
      pollMs: 100,
      log: createLogger('test', { write: (s: string) => (log.push(s), true) } as unknown as NodeJS.WritableStream),
      write: (text) => diffs.push(text),
      ...overrides,
    };
  };
  const state = (objs: KubeObject[] | KubeObject[][], layer: string, cluster = 'lab'): DesiredState => ({ layer, cluster, waves: Array.isArray(objs[0]) ? (objs as KubeObject[][]) : [objs as KubeObject[]] });
  /** What the engine (user admin) wrote while `work` ran, from the audit log; dry runs excluded. */
  async function writesDuring(work: () => Promise<unknown>): Promise<string[]> {
    const before = plane.audit().length;
    await work();
    return mutatingRequests(plane.audit().slice(before), 'admin').map(describeRequest);
  }
  const get = (apiVersion: string, kind: string, name: string, namespace?: string) => plane.client.get(apiVersion, kind, name, namespace);

  it('applies in dependency order: namespace, cluster RBAC, config and secrets, services, workloads; the second apply sends no write at all', async () => {
    let report!: Awaited<ReturnType<typeof applyDesiredState>>;
    const writes = await writesDuring(async () => (report = await applyDesiredState(api, state(objects('order'), 'order'), options())));
    expect(writes.filter((w) => !w.includes('groundwork-'))).toEqual(['patch namespaces order', 'patch clusterroles.rbac.authorization.k8s.io order-reader', 'patch configmaps order/web', 'patch secrets order/web-token', 'patch services order/web', 'patch deployments.apps order/web']);
    expect(report.created).toHaveLength(6);
    expect((await get('apps/v1', 'Deployment', 'web', 'order'))?.metadata.managedFields).toEqual(expect.arrayContaining([expect.objectContaining({ manager: 'groundwork-demo', operation: 'Apply' })]));
    expect(log.join('')).toMatch(/Deployment order\/web rolled out \(2\/2 available, 2 updated\)/);

    const versions = async () => Promise.all(objects('order').map(async (o) => (await get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))?.metadata.resourceVersion));
    const before = await versions();
    const again = await writesDuring(async () => (report = await applyDesiredState(api, state(objects('order'), 'order'), options())));
    expect(again).toEqual([]);
    expect(report.unchanged).toHaveLength(6);
    expect(applySummary(report, false)).toBe('no changes: all 6 objects are as rendered');
    expect(await versions()).toEqual(before);
  });

  it('labels every object as a member of the layer\'s ApplySet, records the set on its parent, and kubectl finds the members by label', async () => {
    await applyDesiredState(api, state(objects('members'), 'members'), options());
    const set = applySetFor('members');
    expect((await get('v1', 'Service', 'web', 'members'))?.metadata.labels?.[APPLYSET.partOf]).toBe(set.id);
    const parent = (await get('v1', 'ConfigMap', 'groundwork-members', 'kube-system'))!;
    expect(parent.metadata.labels?.[APPLYSET.id]).toBe(set.id);
    expect(parent.metadata.annotations).toMatchObject({
      [APPLYSET.tooling]: 'groundwork/v0.1.0',
      [APPLYSET.groupKinds]: 'ClusterRole.rbac.authorization.k8s.io,ConfigMap,Deployment.apps,Namespace,Secret,Service',
      [APPLYSET.namespaces]: 'members',
    });
    const listed = plane.kubectl(['get', 'namespaces,clusterroles,configmaps,secrets,services,deployments', '-A', '-l', `${APPLYSET.partOf}=${set.id}`, '-o', 'name']);
    expect(listed.stderr).toBe('');
    expect(listed.stdout.trim().split('\n').sort()).toEqual(['clusterrole.rbac.authorization.k8s.io/members-reader', 'configmap/web', 'deployment.apps/web', 'namespace/members', 'secret/web-token', 'service/web']);
  });

  it('reports an object as configured only when the server changed it', async () => {
    await applyDesiredState(api, state(objects('changed'), 'changed'), options());
    const changed = objects('changed');
    (changed[2]!.data as Record<string, string>).greeting = 'hi';
    const writes = await writesDuring(async () => {
      const report = await applyDesiredState(api, state(changed, 'changed'), options());
      expect(report.configured).toEqual(['ConfigMap changed/web']);
    });
    expect(writes).toEqual(['patch configmaps changed/web']);
    expect((await get('v1', 'ConfigMap', 'web', 'changed'))?.data).toEqual({ greeting: 'hi' });
  });

  it('prunes what it applied before and no longer renders, never objects it does not own', async () => {
    await applyDesiredState(api, state(objects('prune'), 'prune'), options());
    await plane.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'someone-elses', namespace: 'prune' }, data: { a: '1' } });
    // Carries the set's label but belongs to another layer (copied by hand): still not ours to delete.
    await plane.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'copied', namespace: 'prune', labels: { ...labels('other'), [APPLYSET.partOf]: applySetFor('prune').id } } });
    const report = await applyDesiredState(api, state(objects('prune').filter((o) => o.kind !== 'ConfigMap' && o.kind !== 'ClusterRole'), 'prune'), options());
    expect(report.pruned).toEqual(['ConfigMap prune/web', 'ClusterRole prune-reader']);
    expect(await get('v1', 'ConfigMap', 'web', 'prune')).toBeUndefined();
    expect(await get('rbac.authorization.k8s.io/v1', 'ClusterRole', 'prune-reader')).toBeUndefined();
    expect(await get('v1', 'ConfigMap', 'someone-elses', 'prune')).toBeDefined();
    expect(await get('v1', 'ConfigMap', 'copied', 'prune')).toBeDefined();
    expect((await get('v1', 'ConfigMap', 'groundwork-prune', 'kube-system'))?.metadata.annotations?.[APPLYSET.groupKinds]).toBe('Deployment.apps,Namespace,Secret,Service');
  });

  it('keeps volumes and namespaces that hold data unless data loss is allowed', async () => {
    const pvc: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'keep', labels: labels('keep') }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await applyDesiredState(api, state([...objects('keep'), pvc], 'keep'), options());
    const kept = await applyDesiredState(api, state([], 'keep'), options());
    expect(kept.kept).toEqual(['PersistentVolumeClaim keep/data', 'Namespace keep']);
    expect(await get('v1', 'PersistentVolumeClaim', 'data', 'keep')).toBeDefined();
    const gone = await applyDesiredState(api, state([], 'keep'), options({ allowDataLoss: true }));
    expect(gone.pruned).toEqual(['PersistentVolumeClaim keep/data', 'Namespace keep']);
    // The namespace controller empties and removes a deleted namespace.
    await plane.client.waitFor('namespace keep to be gone', async () => ((await get('v1', 'Namespace', 'keep')) ? undefined : true));
  });

  it('stops on a field another manager owns (kubectl apply --server-side), names it and the field, and takes it over with --force-conflicts', async () => {
    await applyDesiredState(api, state(objects('conflict'), 'conflict'), options());
    const ops = plane.kubectl(['apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', '-'], JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'conflict' }, spec: { replicas: 5 } }));
    expect(ops.status, ops.stderr).toBe(0);
    const changed = objects('conflict');
    (changed[0]!.spec as { replicas: number }).replicas = 3;
    let error: unknown;
    const writes = await writesDuring(async () => (error = await applyDesiredState(api, state(changed, 'conflict'), options()).catch((e: unknown) => e)));
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(4);
    expect((error as Error).message).toContain('Deployment conflict/web: fields this layer sets are owned by another field manager:');
    expect((error as Error).message).toContain('\n  - "ops": .spec.replicas\n');
    expect((error as Error).message).toContain('--force-conflicts');
    expect(writes).toEqual([]);
    expect((await get('apps/v1', 'Deployment', 'web', 'conflict'))?.spec).toMatchObject({ replicas: 5 });
    await applyDesiredState(api, state(changed, 'conflict'), options({ forceConflicts: true }));
    expect((await get('apps/v1', 'Deployment', 'web', 'conflict'))?.spec).toMatchObject({ replicas: 3 });
  });

  it('dry-runs on the server, prints a diff with Secret values masked, and writes nothing', async () => {
    await applyDesiredState(api, state(objects('dry'), 'dry'), options());
    const changed = objects('dry');
    (changed[3]!.stringData as Record<string, string>).token = 'n3w-s3cr3t';
    (changed[1]!.spec as { ports: unknown[] }).ports = [{ name: 'http', port: 8080 }];
    let report!: Awaited<ReturnType<typeof applyDesiredState>>;
    const before = plane.audit().length;
    const writes = await writesDuring(async () => (report = await applyDesiredState(api, state(changed, 'dry'), options({ dryRun: true }))));
    expect(writes).toEqual([]);
    expect(plane.audit().slice(before).filter((e) => e.user.username === 'admin' && e.stage === 'ResponseComplete' && e.verb === 'patch' && e.requestURI.includes('dryRun=All'))).toHaveLength(6);
    expect(report.configured.sort()).toEqual(['Secret dry/web-token', 'Service dry/web']);
    const text = diffs.join('');
    expect(text).toContain('-      port: 80\n+      port: 8080');
    expect(text).toContain('***(changed)***');
    expect(text).not.toContain('s3cr3t');
    expect((await get('v1', 'Service', 'web', 'dry'))?.spec).toMatchObject({ ports: [{ port: 80 }] });
  });

  it('waits for rollouts with progress, and fails naming what is not ready when time runs out', async () => {
    const ns = 'wait';
    const pinned = objects(ns);
    // The pods may only run on a node labelled ready=yes, which no node is yet.
    const deployment = pinned[0]!;
    (deployment.spec as { template: unknown }).template = podTemplate('web', {
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'ready', operator: 'In', values: ['yes'] }] }] } },
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] },
      },
    });
    const label = (node: string) => plane.client.mergePatch('v1', 'Node', node, undefined, { metadata: { labels: { ready: 'yes' } } }, 'test');
    setTimeout(() => void Promise.all([label('node-a'), label('node-b')]), 1_500);
    await applyDesiredState(api, state(pinned, ns), options());
    expect(log.join('')).toMatch(/waiting for 1 rollout .*Deployment wait\/web 0\/2 available/);
    expect(log.join('')).toContain('Deployment wait/web rolled out (2/2 available, 2 updated)');

    // Four replicas, one per node, on two nodes: two stay Pending.
    (deployment.spec as { replicas: number }).replicas = 4;
    const error = await applyDesiredState(api, state(pinned, ns), options({ timeoutMs: 3_000 })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/timed out after .* waiting for: Deployment wait\/web \(2\/4 available/);
  });

  it('applies wave by wave: the first wave is rolled out before the second is applied', async () => {
    const ns = 'waves';
    const [deployment, ...rest] = objects(ns);
    const agent: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: ns, labels: labels(ns) }, spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate('agent') } };
    await applyDesiredState(api, state([[...rest.filter((o) => o.kind === 'Namespace'), agent], [...rest.filter((o) => o.kind !== 'Namespace'), deployment!]], ns), options());
    const agentReadyAt = log.findIndex((l) => l.includes('DaemonSet waves/agent rolled out (2/2 nodes available'));
    const webCreatedAt = log.findIndex((l) => l.includes('created Deployment waves/web'));
    expect(agentReadyAt).toBeGreaterThanOrEqual(0);
    expect(webCreatedAt).toBeGreaterThan(agentReadyAt);
  });

  it('applies custom resources once an operator has registered their kind, and waits for a CRD it applies itself to be Established', async () => {
    const crd = (group: string, kind: string): KubeObject => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${kind.toLowerCase()}s.${group}`, labels: labels('custom') },
      spec: { group, names: { kind, plural: `${kind.toLowerCase()}s` }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }] },
    });
    const gadget: KubeObject = { apiVersion: 'operator.example.com/v1', kind: 'Gadget', metadata: { name: 'g', namespace: 'custom', labels: labels('custom') }, spec: { size: 1 } };
    const dry = await applyDesiredState(api, state([gadget], 'custom'), options({ dryRun: true }));
    expect(dry.skipped).toEqual(['Gadget custom/g']);
    // The "operator" registers its kind a moment after the engine starts waiting for it.
    setTimeout(() => void plane.client.apply(crd('operator.example.com', 'Gadget'), 'operator'), 1_000);
    const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'custom', labels: labels('custom') }, spec: { size: 3 } };
    const writes = await writesDuring(async () => {
      const report = await applyDesiredState(api, state([...objects('custom'), crd('example.com', 'Widget'), widget, gadget], 'custom'), options());
      expect(report.created).toEqual(expect.arrayContaining(['CustomResourceDefinition widgets.example.com', 'Widget custom/w', 'Gadget custom/g']));
    });
    const ours = writes.filter((w) => !w.includes('groundwork-'));
    expect(ours.indexOf('patch customresourcedefinitions.apiextensions.k8s.io widgets.example.com')).toBe(1);
    expect(ours.slice(-2).sort()).toEqual(['patch gadgets.operator.example.com custom/g', 'patch widgets.example.com custom/w']);
  });

  it('stops at a failed write (an error status, a dropped connection) naming the object, and the next apply finishes without rewriting what was done', async () => {
    const front = new ApiFront(plane);
    await front.start();
    try {
      const flaky = KubeApi.fromKubeconfig(front.kubeconfig(), 'groundwork-demo');
      front.fail({ method: 'PATCH', path: /\/namespaces\/faults\/services\/web\?(?!.*dryRun)/, effect: 500 });
      const failed = await applyDesiredState(flaky, state(objects('faults'), 'faults'), options()).catch((e: unknown) => e);
      expect((failed as Error).message).toMatch(/^Service faults\/web: injected fault: HTTP 500/);
      front.fail({ method: 'PATCH', path: /\/namespaces\/faults\/deployments\/web\?(?!.*dryRun)/, effect: 'drop' });
      const dropped = await applyDesiredState(flaky, state(objects('faults'), 'faults'), options()).catch((e: unknown) => e);
      expect(dropped).toBeInstanceOf(Error);
      expect(await get('apps/v1', 'Deployment', 'web', 'faults')).toBeUndefined();
      const writes = await writesDuring(async () => {
        const report = await applyDesiredState(flaky, state(objects('faults'), 'faults'), options());
        expect(report.created).toEqual(['Deployment faults/web']);
        expect(report.unchanged).toHaveLength(5);
      });
      expect(writes.filter((w) => !w.includes('groundwork-'))).toEqual(['patch deployments.apps faults/web']);
    } finally {
      await front.stop();
    }
  });

  it('refuses to apply one cluster\'s objects to another cluster\'s API server', async () => {
    await applyDesiredState(api, state(objects('identity'), 'identity'), options());
    expect((await get('v1', 'ConfigMap', 'groundwork-cluster', 'kube-system'))?.data).toEqual({ cluster: 'lab' });
    let error: unknown;
    const writes = await writesDuring(async () => (error = await applyDesiredState(api, state(objects('identity', 'identity', 'prod'), 'identity', 'prod'), options()).catch((e: unknown) => e)));
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(3);
    expect((error as Error).message).toMatch(/belongs to cluster "lab".*cluster "prod"'s objects/);
    expect(writes).toEqual([]);
    expect((await get('apps/v1', 'Deployment', 'web', 'identity'))?.metadata.labels?.['groundwork.dev/cluster']).toBe('lab');
  });
});

describe('rollout status', () => {
  const ds = (status: Record<string, number>): KubeObject => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'a', generation: 2 }, status: { observedGeneration: 2, ...status } });

  it('decides like kubectl rollout status', async () => {
    const { rolloutState } = await import('./wait.ts');
    expect(rolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }))).toMatchObject({ done: false, detail: '2/3 nodes available, 3 updated' });
    expect(rolloutState(ds({ desiredNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 }))?.done).toBe(true);
    expect(rolloutState({ ...ds({}), status: { observedGeneration: 1 } })?.done).toBe(false);
    const stuck: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } };
    expect(rolloutState(stuck)).toMatchObject({ done: false, failed: true });
    const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { conditions: [{ type: 'Failed', status: 'True' }] } };
    expect(rolloutState(job)).toMatchObject({ done: false, failed: true, detail: 'failed' });
    expect(rolloutState({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })).toBeUndefined();
  });
});

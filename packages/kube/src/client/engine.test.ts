import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, UserError } from '@groundwork/kit';
import { FakeKubeApi } from '@groundwork/testkit/kube';
import { KubeApi } from './api.ts';
import { applyDesiredState, applySummary, type ApplyOptions, type DesiredState } from './apply.ts';
import { APPLYSET, applySetFor } from './applyset.ts';
import type { KubeObject } from '../model/object.ts';

const labels = (layer = 'demo', cluster = 'lab') => ({ 'app.kubernetes.io/managed-by': 'groundwork', 'groundwork.dev/layer': layer, 'groundwork.dev/cluster': cluster });

function objects(layer = 'demo', cluster = 'lab'): KubeObject[] {
  const l = labels(layer, cluster);
  return [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo', labels: l }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo', labels: l }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'demo', labels: l }, data: { greeting: 'hello' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-token', namespace: 'demo', labels: l }, stringData: { token: 's3cr3t-value' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'web-reader', labels: l }, rules: [] },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: l } },
  ];
}

describe('the apply engine against a Kubernetes API server', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;
  let log: string[];
  let diffs: string[];

  beforeEach(async () => {
    fake = new FakeKubeApi();
    await fake.start();
    api = KubeApi.fromKubeconfig(fake.kubeconfig(), 'groundwork-demo');
    log = [];
    diffs = [];
  });
  afterEach(() => fake.stop());

  const options = (overrides: Partial<ApplyOptions> = {}): ApplyOptions => ({
    dryRun: false,
    forceConflicts: false,
    allowDataLoss: false,
    timeoutMs: 5_000,
    pollMs: 20,
    log: createLogger('test', { write: (s: string) => (log.push(s), true) } as unknown as NodeJS.WritableStream),
    write: (text) => diffs.push(text),
    ...overrides,
  });
  const state = (objs: KubeObject[] | KubeObject[][], cluster = 'lab', layer = 'demo'): DesiredState => ({ layer, cluster, waves: Array.isArray(objs[0]) ? (objs as KubeObject[][]) : [objs as KubeObject[]] });

  it('applies in dependency order: namespace, cluster RBAC, config and secrets, services, workloads', async () => {
    const report = await applyDesiredState(api, state(objects()), options());
    const order = fake.writes().filter((w) => !w.includes('groundwork-'));
    expect(order).toEqual(['Namespace demo', 'ClusterRole web-reader', 'ConfigMap demo/web', 'Secret demo/web-token', 'Service demo/web', 'Deployment demo/web']);
    expect(report.created).toHaveLength(6);
    expect(fake.get('apps/v1', 'Deployment', 'web', 'demo')?.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'groundwork-demo', operation: 'Apply' })]);
  });

  it('labels every object as a member of the layer\'s ApplySet and records the set on its parent', async () => {
    await applyDesiredState(api, state(objects()), options());
    const set = applySetFor('demo');
    expect(fake.get('v1', 'Service', 'web', 'demo')?.metadata.labels?.[APPLYSET.partOf]).toBe(set.id);
    const parent = fake.get('v1', 'ConfigMap', 'groundwork-demo', 'kube-system')!;
    expect(parent.metadata.labels?.[APPLYSET.id]).toBe(set.id);
    expect(parent.metadata.annotations).toMatchObject({
      [APPLYSET.tooling]: 'groundwork/v0.1.0',
      [APPLYSET.groupKinds]: 'ClusterRole.rbac.authorization.k8s.io,ConfigMap,Deployment.apps,Namespace,Secret,Service',
      [APPLYSET.namespaces]: 'demo',
    });
  });

  it('changes nothing on a second apply of the same objects, and says so', async () => {
    await applyDesiredState(api, state(objects()), options());
    const before = fake.store.all().map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`);
    const report = await applyDesiredState(api, state(objects()), options());
    expect(fake.store.all().map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`)).toEqual(before);
    expect(report.unchanged).toHaveLength(6);
    expect(applySummary(report, false)).toBe('no changes: all 6 objects are as rendered');
  });

  it('reports an object as configured only when the server changed it', async () => {
    await applyDesiredState(api, state(objects()), options());
    const changed = objects();
    (changed[2]!.data as Record<string, string>).greeting = 'hi';
    const report = await applyDesiredState(api, state(changed), options());
    expect(report.configured).toEqual(['ConfigMap demo/web']);
    expect(fake.get('v1', 'ConfigMap', 'web', 'demo')?.data).toEqual({ greeting: 'hi' });
  });

  it('prunes what it applied before and no longer renders, never objects it does not own', async () => {
    await applyDesiredState(api, state(objects()), options());
    fake.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'someone-elses', namespace: 'demo' }, data: { a: '1' } });
    // Carries the set's label but belongs to another layer (copied by hand): still not ours to delete.
    fake.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'copied', namespace: 'demo', labels: { ...labels('other'), [APPLYSET.partOf]: applySetFor('demo').id } } });
    const report = await applyDesiredState(api, state(objects().filter((o) => o.kind !== 'ConfigMap' && o.kind !== 'ClusterRole')), options());
    expect(report.pruned).toEqual(['ConfigMap demo/web', 'ClusterRole web-reader']);
    expect(fake.get('v1', 'ConfigMap', 'web', 'demo')).toBeUndefined();
    expect(fake.get('rbac.authorization.k8s.io/v1', 'ClusterRole', 'web-reader')).toBeUndefined();
    expect(fake.get('v1', 'ConfigMap', 'someone-elses', 'demo')).toBeDefined();
    expect(fake.get('v1', 'ConfigMap', 'copied', 'demo')).toBeDefined();
    expect(fake.get('v1', 'ConfigMap', 'groundwork-demo', 'kube-system')?.metadata.annotations?.[APPLYSET.groupKinds]).toBe('Deployment.apps,Namespace,Secret,Service');
  });

  it('keeps volumes and namespaces that hold data unless data loss is allowed', async () => {
    const pvc: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'demo', labels: labels() }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await applyDesiredState(api, state([...objects(), pvc]), options());
    const kept = await applyDesiredState(api, state([]), options());
    expect(kept.kept).toEqual(['PersistentVolumeClaim demo/data', 'Namespace demo']);
    expect(fake.get('v1', 'PersistentVolumeClaim', 'data', 'demo')).toBeDefined();
    const gone = await applyDesiredState(api, state([]), options({ allowDataLoss: true }));
    expect(gone.pruned).toEqual(['PersistentVolumeClaim demo/data', 'Namespace demo']);
    expect(fake.get('v1', 'Namespace', 'demo')).toBeUndefined();
  });

  it('stops on a field owned by another manager, names it and the field, and takes it over with --force-conflicts', async () => {
    await applyDesiredState(api, state(objects()), options());
    const res = await fetch(`${fake.url}/apis/apps/v1/namespaces/demo/deployments/web?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 5 } }),
    });
    expect(res.status).toBe(200);
    const changed = objects();
    (changed[0]!.spec as { replicas: number }).replicas = 3;
    const error = await applyDesiredState(api, state(changed), options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('Deployment demo/web: fields this layer sets are owned by another field manager:');
    expect((error as Error).message).toContain('"kubectl-edit": .spec.replicas');
    expect((error as Error).message).toContain('--force-conflicts');
    expect(fake.get('apps/v1', 'Deployment', 'web', 'demo')?.spec).toMatchObject({ replicas: 5 });
    await applyDesiredState(api, state(changed), options({ forceConflicts: true }));
    expect(fake.get('apps/v1', 'Deployment', 'web', 'demo')?.spec).toMatchObject({ replicas: 3 });
  });

  it('dry-runs on the server, prints a diff with Secret values masked, and writes nothing', async () => {
    await applyDesiredState(api, state(objects()), options());
    const changed = objects();
    (changed[3]!.stringData as Record<string, string>).token = 'n3w-s3cr3t';
    (changed[1]!.spec as { ports: unknown[] }).ports = [{ name: 'http', port: 8080 }];
    const writesBefore = fake.writes().length;
    const report = await applyDesiredState(api, state(changed), options({ dryRun: true }));
    expect(fake.writes().length).toBe(writesBefore);
    expect(fake.requests.filter((r) => r.method === 'PATCH' && r.query.dryRun === 'All').length).toBe(6);
    expect(report.configured.sort()).toEqual(['Secret demo/web-token', 'Service demo/web']);
    const text = diffs.join('');
    expect(text).toContain('-      port: 80\n+      port: 8080');
    expect(text).toContain('***(changed)***');
    expect(text).not.toContain('s3cr3t');
    expect(fake.get('v1', 'Service', 'web', 'demo')?.spec).toMatchObject({ ports: [{ port: 80 }] });
  });

  it('refuses to apply one cluster\'s objects to another cluster\'s API server', async () => {
    await applyDesiredState(api, state(objects('demo', 'lab')), options());
    expect(fake.get('v1', 'ConfigMap', 'groundwork-cluster', 'kube-system')?.data).toEqual({ cluster: 'lab' });
    const error = await applyDesiredState(api, state(objects('demo', 'prod'), 'prod'), options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(3);
    expect((error as Error).message).toMatch(/belongs to cluster "lab".*cluster "prod"'s objects/);
    expect(fake.get('apps/v1', 'Deployment', 'web', 'demo')?.metadata.labels?.['groundwork.dev/cluster']).toBe('lab');
  });

  it('waits for rollouts with progress, and fails naming what is not ready when time runs out', async () => {
    fake.autoReady = false;
    setTimeout(() => fake.rollOut(fake.get('apps/v1', 'Deployment', 'web', 'demo')!), 300);
    await applyDesiredState(api, state(objects()), options());
    expect(log.join('')).toMatch(/waiting for 1 rollout .*Deployment demo\/web 0\/2 available/);
    expect(log.join('')).toContain('Deployment demo/web rolled out (2/2 available, 2 updated)');

    const slower = objects();
    (slower[0]!.spec as { replicas: number }).replicas = 4;
    const error = await applyDesiredState(api, state(slower), options({ timeoutMs: 200 })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/timed out after .* waiting for: Deployment demo\/web \(2\/4 available/);
  });

  it('applies wave by wave: the first wave is rolled out before the second is applied', async () => {
    fake.autoReady = false;
    const [deployment, ...rest] = objects();
    const cni: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'cni', namespace: 'demo', labels: labels() }, spec: { selector: { matchLabels: { app: 'cni' } }, template: { metadata: { labels: { app: 'cni' } }, spec: { containers: [{ name: 'cni', image: 'cni:1' }] } } } };
    setTimeout(() => fake.rollOut(fake.get('apps/v1', 'DaemonSet', 'cni', 'demo')!), 200);
    setTimeout(() => fake.rollOut(fake.get('apps/v1', 'Deployment', 'web', 'demo')!), 400);
    await applyDesiredState(api, state([[...rest.filter((o) => o.kind === 'Namespace'), cni], [...rest.filter((o) => o.kind !== 'Namespace'), deployment!]]), options());
    const writes = fake.writes().filter((w) => !w.includes('groundwork-'));
    expect(writes.slice(0, 2)).toEqual(['Namespace demo', 'DaemonSet demo/cni']);
    const cniReadyAt = log.findIndex((l) => l.includes('DaemonSet demo/cni rolled out'));
    const webCreatedAt = log.findIndex((l) => l.includes('created Deployment demo/web'));
    expect(cniReadyAt).toBeGreaterThanOrEqual(0);
    expect(webCreatedAt).toBeGreaterThan(cniReadyAt);
  });

  it('applies custom resources once an operator has registered their kind', async () => {
    const pool: KubeObject = { apiVersion: 'cilium.io/v2', kind: 'CiliumLoadBalancerIPPool', metadata: { name: 'pool', labels: labels() }, spec: { blocks: [{ start: '10.0.0.40', stop: '10.0.0.49' }] } };
    setTimeout(() => fake.serve({ group: 'cilium.io', version: 'v2', kind: 'CiliumLoadBalancerIPPool', plural: 'ciliumloadbalancerippools', namespaced: false }), 300);
    const dry = await applyDesiredState(api, state([pool]), options({ dryRun: true }));
    expect(dry.skipped).toEqual(['CiliumLoadBalancerIPPool pool']);
    const report = await applyDesiredState(api, state([...objects(), pool]), options());
    expect(report.created).toContain('CiliumLoadBalancerIPPool pool');
    expect(fake.writes().filter((w) => !w.includes('groundwork-')).pop()).toBe('CiliumLoadBalancerIPPool pool');
  });

  it('waits for a CRD to be Established before applying resources of its kind', async () => {
    fake = new FakeKubeApi({ crdDelayMs: 250 });
    await fake.start();
    api = KubeApi.fromKubeconfig(fake.kubeconfig(), 'groundwork-demo');
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com', labels: labels() },
      spec: { group: 'example.com', names: { kind: 'Widget', plural: 'widgets' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true }] },
    };
    const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'demo', labels: labels() }, spec: { size: 3 } };
    const report = await applyDesiredState(api, state([...objects(), crd, widget]), options());
    expect(report.created).toEqual(expect.arrayContaining(['CustomResourceDefinition widgets.example.com', 'Widget demo/w']));
    const writes = fake.writes().filter((w) => !w.includes('groundwork-'));
    expect(writes.indexOf('CustomResourceDefinition widgets.example.com')).toBe(1);
    expect(writes.at(-1)).toBe('Widget demo/w');
    await fake.stop();
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

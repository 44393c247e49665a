import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programVersion } from '../programs.ts';
import { addNodes, nodeFromMachineConfig, testNode } from './nodes.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startPodRunner } from './pod-runner.ts';
import { specFromMachineConfig, throwawaySpec } from './talos-spec.ts';
import { mutatingRequests } from './audit.ts';
import { mergeArgs, API_SERVER_POLICIES } from './talos-args.ts';
import type { KubeObject } from './client.ts';

/** etcd's JSON gateway: the value stored under a key, as the API server wrote it. */
function etcdValue(plane: ControlPlane, key: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ key: Buffer.from(key).toString('base64') });
    const url = new URL('/v3/kv/range', plane.etcd.url);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: plane.etcd.ca, cert: plane.etcd.cert, key: plane.etcd.key, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(Buffer.from((JSON.parse(text) as { kvs?: Array<{ value: string }> }).kvs?.[0]?.value ?? '', 'base64')));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const restricted = { securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } } };
const hardened = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

describe('a control plane started as Talos starts it', () => {
  let plane: ControlPlane;

  beforeAll(async () => {
    // kwok plays the kubelet everywhere but in namespace "jobs", whose pods a pod runner runs for real.
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'lab'), kwok: { provisionFor: ['node-local'], leavePods: [{ key: '.metadata.namespace', operator: 'NotIn', values: ['jobs'] }] } });
    await addNodes(plane.client, [testNode('node-a'), testNode('node-b')]);
  }, 180_000);
  afterAll(() => plane?.stop());

  it('refuses anonymous requests, encrypts Secrets at rest with the cluster\'s secretbox key, and audits by the cluster\'s policy', async () => {
    const anonymous = await new Promise<number>((resolve) => request(`${plane.url}/version`, { ca: plane.spec.ca.crt }, (res) => resolve(res.statusCode ?? 0)).end());
    expect(anonymous).toBe(401);
    await plane.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sealed', namespace: 'default' }, stringData: { password: 'plain-text-here' } });
    const stored = await etcdValue(plane, '/registry/secrets/default/sealed');
    expect(stored.toString('latin1')).toMatch(/^k8s:enc:secretbox:v1:key2:/);
    expect(stored.includes('plain-text-here')).toBe(false);
    expect(mutatingRequests(plane.audit(), 'test-harness').some((e) => e.objectRef?.name === 'sealed' && e.verb === 'create')).toBe(true);
  });

  it('enforces Pod Security restricted where a namespace says nothing', async () => {
    const privileged: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'root', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] } };
    await expect(plane.client.create(privileged)).rejects.toThrow(/violates PodSecurity \\"restricted:latest\\"/);
  });

  it('schedules onto kwok nodes that kwok keeps Ready, and provisions a WaitForFirstConsumer claim on the node the scheduler chose', async () => {
    await plane.client.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'node-local' }, provisioner: 'example.com/node-local', volumeBindingMode: 'WaitForFirstConsumer' }, 'test');
    await plane.client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { storageClassName: 'node-local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    await plane.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: 'default' }, spec: { ...restricted, containers: [{ name: 'c', image: 'busybox', securityContext: hardened }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } });
    const pod = await plane.client.waitFor('the pod to run', async () => {
      const live = await plane.client.get('v1', 'Pod', 'user', 'default');
      return (live?.status as { phase?: string }).phase === 'Running' ? live : undefined;
    });
    const claim = (await plane.client.get('v1', 'PersistentVolumeClaim', 'data', 'default'))!;
    expect((claim.status as { phase: string }).phase).toBe('Bound');
    const volume = (await plane.client.get('v1', 'PersistentVolume', (claim.spec as { volumeName: string }).volumeName))!;
    const pinned = (volume.spec as { nodeAffinity: { required: { nodeSelectorTerms: Array<{ matchExpressions: Array<{ values: string[] }> }> } } }).nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions[0]!.values;
    expect(pinned).toEqual([(pod.spec as { nodeName: string }).nodeName]);
  });

  it('runs the pods a test owns for real, and the real Job controller judges them', async () => {
    const runner = startPodRunner({ client: plane.client, owns: (pod) => pod.metadata.namespace === 'jobs', runtimeFor: () => ({ path: ['/usr/bin', '/bin'] }) });
    await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'jobs' } });
    const job = (name: string, script: string): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: 'jobs' },
      spec: { backoffLimit: 0, template: { spec: { ...restricted, restartPolicy: 'Never', automountServiceAccountToken: false, containers: [{ name: 'work', image: 'debian', command: ['sh', '-c', script], securityContext: hardened }] } } },
    });
    try {
      await plane.client.create(job('passes', 'echo done > /dev/termination-log'));
      await plane.client.create(job('fails', 'echo broken >&2; exit 3'));
      const outcome = (name: string) =>
        plane.client.waitFor(`job ${name} to finish`, async () => {
          const conditions = ((await plane.client.get('batch/v1', 'Job', name, 'jobs'))?.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? [];
          return conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;
        });
      const passed = await outcome('passes');
      await runner.settled();
      expect(passed, JSON.stringify(runner.runs, null, 1)).toBe('Complete');
      expect(await outcome('fails')).toBe('Failed');
      await runner.settled();
      const failed = runner.runs.find((r) => r.pod.startsWith('jobs/fails-'))!;
      expect(failed.containers[0]).toMatchObject({ code: 3, log: 'broken\n' });
    } finally {
      await runner.stop();
    }
  });
});

describe('the spec Talos reads from a machine config', () => {
  const config = (cluster: string) => `version: v1alpha1\nmachine:\n  type: controlplane\n  network: { hostname: cp-1 }\n  nodeLabels: { zone: a }\ncluster:\n${cluster}`;

  it('names the field a control plane cannot start without', () => {
    expect(() => specFromMachineConfig(config('  clusterName: lab\n  apiServer: { image: registry.k8s.io/kube-apiserver:v1.36.3 }\n'), 'nodes/cp-1.yaml')).toThrow('nodes/cp-1.yaml cluster: controlPlane.endpoint is missing (Talos needs it on a control plane)');
  });

  it('merges extraArgs by Talos\'s rules: some add to its flags, some may not be set at all', () => {
    expect(mergeArgs({ 'enable-admission-plugins': 'NodeRestriction' }, { 'enable-admission-plugins': 'AlwaysPullImages' }, API_SERVER_POLICIES, 'apiServer')).toEqual({ 'enable-admission-plugins': 'NodeRestriction,AlwaysPullImages' });
    expect(() => mergeArgs({}, { 'etcd-servers': 'https://elsewhere:2379' }, API_SERVER_POLICIES, 'cluster lab apiServer')).toThrow('cluster lab apiServer: extraArgs may not set etcd-servers (Talos refuses to merge it)');
  });

  it('shapes a node: labels and taints from the config, allocatable as Talos reserves it', () => {
    const node = nodeFromMachineConfig(config('  clusterName: lab\n'), { ip: '10.0.0.2', arch: 'arm64', cpu: 4, memoryBytes: 8 * 1024 ** 3 }, { kubernetes: '1.36.3', talos: 'v1.13.9' });
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'cp-1', 'kubernetes.io/arch': 'arm64', 'node-role.kubernetes.io/control-plane': '', zone: 'a' });
    expect((node.spec as { taints: unknown[] }).taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    // 8 GiB less 512Mi (system reserved on a control plane) less 100Mi (the kubelet's eviction threshold).
    expect((node.status as { allocatable: Record<string, string> }).allocatable).toEqual({ cpu: '3950m', memory: `${(8192 - 612) * 1024}Ki`, pods: '110' });
  });
});

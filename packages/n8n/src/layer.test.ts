import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { loadCluster } from '@groundwork/cluster';
import { renderComponents, allObjects } from '@groundwork/kube';
import { components as platformComponents } from '@groundwork/platform-core';
import { programVersion } from '@groundwork/testkit/programs';
import { ApiFront, addNodes, describeRequest, mutatingRequests, startControlPlane, testNode, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { main as secrets } from '../../secrets-sops/src/secrets-cli.ts';
import { main as generate } from './generate.ts';
import { main as verify } from './verify.ts';
import { main as apply } from './apply.ts';
import { startTlsIngress, type TlsIngress } from './e2e/tls-ingress.ts';

const CLUSTER = `apiVersion: groundwork.dev/v1alpha1
kind: Cluster
name: lab
domain: lab.home.arpa
versions: { talos: v1.13.9, kubernetes: 1.36.3 }
controlPlane: { allowWorkloads: true }
network:
  nodeCidr: 192.168.1.0/24
  gateway: 192.168.1.1
  loadBalancerPool: { start: 192.168.1.40, stop: 192.168.1.49 }
nodes:
  - { name: cp-1, ip: 192.168.1.21, role: controlplane, platform: rpi4 }
  - { name: w-1, ip: 192.168.1.22, role: worker, platform: rpi4 }
features:
  ingress: { loadBalancerIp: 192.168.1.40 }
  n8n: { enabled: true, workers: 2, webhookProcessors: 1 }
sops:
  age: []
`;

/**
 * The n8n layer applied by its own apply script to a real API server with its controllers, a scheduler and two
 * kwok Raspberry Pis: Pod Security enforced, the claims provisioned on the nodes the scheduler picks, every
 * rollout real. Only what runs inside the pods is a stand-in: the workers' readiness answers (ApiFront) and
 * Traefik's HTTPS entry point.
 */
describe('the n8n layer from the cluster file to a cluster that runs it', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  let plane: ControlPlane;
  let front: ApiFront;
  let ingress: TlsIngress;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, main, argv, { ...env, ...extra });
  const engineWrites = (from: number) => mutatingRequests(plane.audit().slice(from), 'admin').map(describeRequest);

  beforeAll(async () => {
    ws = scratchWorkspace({ lab: CLUSTER }, { n8n: `export { default } from ${JSON.stringify(join(import.meta.dirname, 'secrets.ts'))};\n` });
    env = isolatedEnv(scratchDir('gw-home-'), { GROUNDWORK_POLL_MS: '200' });
    expect((await run(secrets, ['init', '--cluster=lab', '--x25519'])).code).toBe(0);
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'lab'), kwok: { provisionFor: ['local-path'] } });
    const pi = { cpu: 4, memoryBytes: 8 * 1024 ** 3 };
    await addNodes(plane.client, [testNode('cp-1', pi), testNode('w-1', pi)]);
    // What platform-core gives the cluster first: its default StorageClass, the one n8n's claims use.
    const cluster = loadCluster(ws.root, 'lab');
    const storageClass = allObjects({ components: renderComponents('platform-core', cluster, platformComponents(cluster)) }).find((o) => o.kind === 'StorageClass')!;
    await plane.client.apply(storageClass, 'groundwork-platform-core');
    front = new ApiFront(plane);
    await front.start();
    // Each worker's own readiness: 200 once connected to PostgreSQL and Valkey.
    front.inPod.set('n8n/pod/*:5678', (path) => (path === '/healthz/readiness' ? { status: 200, body: { status: 'ok' } } : { status: 404, body: '' }));
    ingress = await startTlsIngress('n8n.lab.home.arpa');
    ws.useKubeconfig('lab', front.kubeconfig());
  }, 180_000);
  afterAll(async () => {
    ingress?.server.close();
    await front?.stop();
    await plane?.stop();
  });

  it('generate renders without the Secrets and says what to provide, apply refuses until they exist, then they are rendered encrypted next to the objects', async () => {
    const missing = await run(generate, ['--cluster=lab']);
    expect(missing.code, missing.stderr).toBe(0);
    expect(missing.stderr).toContain('not provided yet (apply refuses until it is): clusters/lab/secrets/n8n/n8n-encryption-key.sops.yaml: key (generated; run: gw-secrets create --cluster=lab)');
    const refused = await run(apply, ['--cluster=lab']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('missing secret value: clusters/lab/secrets/n8n/n8n-encryption-key.sops.yaml: key');
    expect((await run(secrets, ['create', '--cluster=lab'])).code).toBe(0);
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: \d+ objects in 7 components, 3 encrypted Secrets/);
    const verified = await run(verify, ['--cluster=lab']);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('apply creates the namespace, then the Secrets, then the workloads, every rollout completes, and a second apply sends no write', async () => {
    const before = plane.audit().length;
    const result = await run(apply, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    const order = engineWrites(before).filter((w) => !w.includes('groundwork-'));
    expect(order.indexOf('patch namespaces n8n')).toBeLessThan(order.indexOf('patch secrets n8n/postgres'));
    expect(order.indexOf('patch secrets n8n/n8n-encryption-key')).toBeLessThan(order.indexOf('patch deployments.apps n8n/n8n'));
    expect(result.stderr).toMatch(/StatefulSet n8n\/postgres rolled out \(1\/1 ready/);
    const key = (await plane.client.get('v1', 'Secret', 'n8n-encryption-key', 'n8n'))!;
    expect(Buffer.from((key.data as Record<string, string>).key!, 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    const second = plane.audit().length;
    const again = await run(apply, ['--cluster=lab']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/lab: no changes: all \d+ objects are as rendered/);
    expect(engineWrites(second)).toEqual([]);
  }, 180_000);

  it('live verify: every process ready, workers connected, the public URL ready through the Ingress, no pod restarting', async () => {
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1', GROUNDWORK_ADDRESS_MAP: `n8n.lab.home.arpa:443=127.0.0.1:${ingress.port}` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('lab:   processes  main 1/1, workers 2/2, webhook processors 1/1 ready; queue connected');
    expect(result.stderr).toContain('lab:   public-url https://n8n.lab.home.arpa/healthz/readiness ready by its name');
    expect(result.stderr).toMatch(/lab: {3}pods {7}6 running, none restarting \(0 restarts in all\)/);
  });

  it('live verify fails on a crash-looping worker', async () => {
    const worker = (await plane.client.list('v1', 'Pod', { namespace: 'n8n', labelSelector: 'app.kubernetes.io/instance=n8n-worker' })).map((p) => p.metadata.name).sort()[1]!;
    // What the kubelet reports for a worker that keeps exiting.
    await plane.client.setStatus('v1', 'Pod', worker, 'n8n', {
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date().toISOString() }],
      containerStatuses: [{ name: 'n8n', image: 'docker.n8n.io/n8nio/n8n:2.41.1', imageID: '', ready: false, restartCount: 6, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s' } } }],
    }, 'kubelet');
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1', GROUNDWORK_ADDRESS_MAP: `n8n.lab.home.arpa:443=127.0.0.1:${ingress.port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Deployment n8n/n8n-worker: pod n8n/${worker} container n8n: CrashLoopBackOff (back-off 2m40s)`);
    expect(result.stderr).toContain('processes: workers: 1/2 ready');
  });
});

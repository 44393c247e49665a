import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { FakeKubeApi, type KubeObject } from '@groundwork/testkit/kube';
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

/** The kubelet's side of things: a Ready pod for each replica the n8n Deployments ask for. */
function kubelet(fake: FakeKubeApi): void {
  fake.controllers.push((object) => {
    if (object.kind !== 'Deployment' || object.metadata.namespace !== 'n8n') return;
    const spec = object.spec as { replicas: number; template: { metadata: { labels: Record<string, string> } } };
    for (let i = 0; i < spec.replicas; i++) {
      const name = `${object.metadata.name}-${i}`;
      if (fake.get('v1', 'Pod', name, 'n8n')) continue;
      fake.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'n8n', labels: spec.template.metadata.labels }, spec: { containers: [{ name: 'n8n', image: 'n8n' }] } });
      fake.setStatus('v1', 'Pod', name, 'n8n', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'n8n', restartCount: 0, state: { running: {} } }] });
      if (object.metadata.name === 'n8n-worker') fake.proxies.set(`n8n/pod/${name}:5678`, () => ({ status: 200, body: { status: 'ok' } }));
    }
  });
}

describe('the n8n layer from the cluster file to a cluster that runs it', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  let fake: FakeKubeApi;
  let ingress: TlsIngress;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, main, argv, { ...env, ...extra });

  beforeAll(async () => {
    ws = scratchWorkspace({ lab: CLUSTER }, { n8n: `export { default } from ${JSON.stringify(join(import.meta.dirname, 'secrets.ts'))};\n` });
    env = isolatedEnv(scratchDir('gw-home-'), { GROUNDWORK_POLL_MS: '20' });
    fake = new FakeKubeApi();
    await fake.start();
    fake.readyNodes('cp-1', 'w-1');
    kubelet(fake);
    ingress = await startTlsIngress('n8n.lab.home.arpa');
    ws.useKubeconfig('lab', fake.kubeconfig());
    expect((await run(secrets, ['init', '--cluster=lab', '--x25519'])).code).toBe(0);
  });
  afterAll(async () => {
    ingress.server.close();
    await fake.stop();
  });

  it('generate asks for the Secrets first, then renders them encrypted next to the objects', async () => {
    const missing = await run(generate, ['--cluster=lab']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('clusters/lab/secrets/n8n/n8n-encryption-key.sops.yaml: key (generated; run: gw-secrets create --cluster=lab)');
    expect((await run(secrets, ['create', '--cluster=lab'])).code).toBe(0);
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: \d+ objects in 7 components, 3 encrypted Secrets/);
    const verified = await run(verify, ['--cluster=lab']);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('apply creates the namespace, then the Secrets, then the workloads, and a second apply changes nothing', async () => {
    const result = await run(apply, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    const order = fake.writes().filter((w) => !w.includes('groundwork-'));
    expect(order.indexOf('Namespace n8n')).toBeLessThan(order.indexOf('Secret n8n/postgres'));
    expect(order.indexOf('Secret n8n/n8n-encryption-key')).toBeLessThan(order.indexOf('Deployment n8n/n8n'));
    const key = fake.get('v1', 'Secret', 'n8n-encryption-key', 'n8n')!;
    expect(Buffer.from((key.data as Record<string, string>).key!, 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    const before = fake.store.all().map((o: KubeObject) => o.metadata.resourceVersion);
    const again = await run(apply, ['--cluster=lab']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/lab: no changes: all \d+ objects are as rendered/);
    expect(fake.store.all().map((o: KubeObject) => o.metadata.resourceVersion)).toEqual(before);
  });

  it('live verify: every process ready, workers connected, the public URL ready through the Ingress, no pod restarting', async () => {
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1', GROUNDWORK_ADDRESS_MAP: `n8n.lab.home.arpa:443=127.0.0.1:${ingress.port}` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('lab:   processes  main 1/1, workers 2/2, webhook processors 1/1 ready; queue connected');
    expect(result.stderr).toContain('lab:   public-url https://n8n.lab.home.arpa/healthz/readiness ready by its name');
    expect(result.stderr).toMatch(/lab: {3}pods {7}4 running, none restarting \(0 restarts in all\)/);
  });

  it('live verify fails on a crash-looping worker', async () => {
    fake.setStatus('v1', 'Pod', 'n8n-worker-1', 'n8n', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'n8n', restartCount: 6, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s' } } }],
    });
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1', GROUNDWORK_ADDRESS_MAP: `n8n.lab.home.arpa:443=127.0.0.1:${ingress.port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Deployment n8n/n8n-worker: pod n8n/n8n-worker-1 container n8n: CrashLoopBackOff (back-off 2m40s)');
    expect(result.stderr).toContain('processes: workers: 1/2 ready');
  });
});

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { FakeKubeApi, type KubeObject } from '@groundwork/testkit/kube';
import { main as secrets } from '../../secrets-sops/src/secrets-cli.ts';
import { main as generate } from './generate.ts';
import { main as verify } from './verify.ts';
import { main as apply } from './apply.ts';

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
  - { name: w-2, ip: 192.168.1.23, role: worker, platform: rpi4 }
features:
  ingress: { loadBalancerIp: 192.168.1.40 }
  cloudflareTunnel: { enabled: true }
sops:
  age: []
`;

/** What the cluster's controllers would do, reduced to what platform-core's apply and verify look at. */
function controllers(fake: FakeKubeApi): void {
  fake.controllers.push((object) => {
    if (object.kind === 'Deployment' && object.metadata.name === 'cilium-operator') {
      // The operator registers Cilium's CRDs when it starts.
      fake.serve({ group: 'cilium.io', version: 'v2', kind: 'CiliumLoadBalancerIPPool', plural: 'ciliumloadbalancerippools', namespaced: false });
      fake.serve({ group: 'cilium.io', version: 'v2alpha1', kind: 'CiliumL2AnnouncementPolicy', plural: 'ciliuml2announcementpolicies', namespaced: false });
    }
    if (object.kind === 'Service' && (object.spec as { type?: string }).type === 'LoadBalancer') {
      const ip = object.metadata.annotations?.['lbipam.cilium.io/ips'] ?? '192.168.1.41';
      fake.setStatus('v1', 'Service', object.metadata.name, object.metadata.namespace, { loadBalancer: { ingress: [{ ip }] } });
    }
    if (object.kind === 'Pod') {
      const claim = ((object.spec as { volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }> }).volumes ?? []).find((v) => v.persistentVolumeClaim);
      if (claim) fake.setStatus('v1', 'PersistentVolumeClaim', claim.persistentVolumeClaim!.claimName, object.metadata.namespace, { phase: 'Bound' });
      fake.setStatus('v1', 'Pod', object.metadata.name, object.metadata.namespace, { phase: 'Succeeded' });
    }
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === '.git') return [];
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('platform-core from the cluster file to a cluster that matches it', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  let fake: FakeKubeApi;
  const token = `eyJhIjoi-tunnel-${randomBytes(12).toString('hex')}`;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, main, argv, { ...env, ...extra });
  const writes = () => fake.writes().filter((w) => !w.includes('groundwork-'));

  beforeAll(async () => {
    const real = join(import.meta.dirname, 'secrets.ts');
    ws = scratchWorkspace({ lab: CLUSTER }, { 'platform-core': `export { default } from ${JSON.stringify(real)};\n` });
    env = isolatedEnv(scratchDir('gw-home-'), { GROUNDWORK_POLL_MS: '20', GROUNDWORK_PROBE_TIMEOUT_MS: '5000' });
    fake = new FakeKubeApi();
    await fake.start();
    fake.readyNodes('cp-1', 'w-1', 'w-2');
    controllers(fake);
    ws.useKubeconfig('lab', fake.kubeconfig());
    expect((await run(secrets, ['init', '--cluster=lab', '--x25519'])).code).toBe(0);
  });
  afterAll(() => fake.stop());

  it('generate needs the tunnel token and says how to provide it', async () => {
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('lab: missing secret value: clusters/lab/secrets/cloudflared/cloudflared-tunnel.sops.yaml: token');
    expect(result.stderr).toContain('gw-secrets set --cluster=lab cloudflared/cloudflared-tunnel token');
  });

  it('generate renders one file per component and copies the encrypted Secret, never its value', async () => {
    const valueFile = join(scratchDir('gw-value-'), 'token');
    writeFileSync(valueFile, token);
    expect((await run(secrets, ['set', '--cluster=lab', 'cloudflared/cloudflared-tunnel', 'token', `--value-file=${valueFile}`])).code).toBe(0);
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: \d+ objects in 5 components, 1 encrypted Secret/);
    const rendered = readdirSync(join(ws.root, 'clusters/lab/rendered/platform-core')).sort();
    expect(rendered).toEqual(['cilium.yaml', 'cloudflared.yaml', 'footprint.md', 'index.yaml', 'local-path.yaml', 'metrics-server.yaml', 'resilience.md', 'secrets', 'traefik.yaml']);
    const secretCopy = join(ws.root, 'clusters/lab/rendered/platform-core/secrets/cloudflared.cloudflared-tunnel.sops.yaml');
    expect(statSync(secretCopy).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretCopy, 'utf8')).toMatch(/token: ENC\[AES256_GCM,/);
    expect(filesUnder(ws.root).filter((f) => readFileSync(f, 'utf8').includes(token))).toEqual([]);
  });

  it('verify passes the static checks and prints the footprint and resilience summaries', async () => {
    const result = await run(verify, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: footprint of \d+ objects: requests \S+ CPU, \S+ memory/);
    expect(result.stderr).toContain('lab: capacity of 3 nodes: 12 CPU, 24Gi');
    expect(result.stderr).toContain('lab:   ✗ control plane: one control plane: the Kubernetes API and etcd stop when it does');
  });

  it('verify finds a rendering that no longer matches the sources', async () => {
    const file = join(ws.root, 'clusters/lab/rendered/platform-core/traefik.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('replicas: 2', 'replicas: 1'));
    const result = await run(verify, ['--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('lab: clusters/lab/rendered/platform-core/traefik.yaml is stale (run: npx nx run platform-core:generate --cluster=lab)');
    writeFileSync(file, original);
  });

  it('apply brings up Cilium first, waits for its CRDs, decrypts the Secret in memory and records the cluster', async () => {
    const result = await run(apply, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    const order = writes();
    expect(order.indexOf('DaemonSet cilium/cilium')).toBeLessThan(order.indexOf('Namespace traefik'));
    expect(order.indexOf('Deployment cilium/cilium-operator')).toBeLessThan(order.indexOf('CiliumLoadBalancerIPPool default'));
    expect(order.indexOf('CiliumL2AnnouncementPolicy default')).toBeLessThan(order.indexOf('Namespace metrics-server'));
    expect(order.indexOf('Namespace cloudflared')).toBeLessThan(order.indexOf('Secret cloudflared/cloudflared-tunnel'));
    const secret = fake.get('v1', 'Secret', 'cloudflared-tunnel', 'cloudflared')!;
    expect(Buffer.from((secret.data as Record<string, string>).token!, 'base64').toString()).toBe(token);
    expect(secret.metadata.labels).toMatchObject({ 'groundwork.dev/layer': 'platform-core', 'groundwork.dev/cluster': 'lab' });
    expect(fake.get('v1', 'ConfigMap', 'groundwork-cluster', 'kube-system')?.data).toEqual({ cluster: 'lab' });
    expect(result.stderr).toContain('recorded this API server as cluster lab');
    expect(filesUnder(ws.root).filter((f) => readFileSync(f, 'utf8').includes(token))).toEqual([]);
  });

  it('a second apply changes nothing and says so', async () => {
    const before = fake.store.all().map((o: KubeObject) => o.metadata.resourceVersion);
    const result = await run(apply, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: no changes: all \d+ objects are as rendered/);
    expect(fake.store.all().map((o: KubeObject) => o.metadata.resourceVersion)).toEqual(before);
  });

  it('live verify proves the platform: nodes, objects, workloads, a provisioned volume and the ingress address', async () => {
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('lab:   nodes      3/3 Ready');
    expect(result.stderr).toMatch(/lab: {3}objects {4}(\d+)\/\1 present, 0 drifted/);
    expect(result.stderr).toMatch(/lab: {3}workloads {2}(\d+)\/\1 available/);
    expect(result.stderr).toMatch(/lab: {3}storage {4}local-path provisioned and mounted a 16Mi volume/);
    expect(result.stderr).toContain('lab:   ingress    traefik/traefik at 192.168.1.40');
    expect(fake.get('v1', 'Namespace', 'groundwork-storage-probe')).toBeUndefined();
  });

  it('live verify reports drift: a missing object, and a field another tool took over', async () => {
    await fetch(`${fake.url}/apis/apps/v1/namespaces/traefik/deployments/traefik?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 4 } }),
    });
    fake.store.delete(fake.type('networking.k8s.io/v1', 'NetworkPolicy'), 'traefik', 'allow-dns');
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('lab: NetworkPolicy traefik/allow-dns: missing');
    expect(result.stderr).toContain('lab: Deployment traefik/traefik: fields are owned by another field manager: conflict with "kubectl-edit" .spec.replicas');
  });

  it('apply restores what drifted, taking contested fields back only with --force-conflicts', async () => {
    const refused = await run(apply, ['--cluster=lab']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('"kubectl-edit": .spec.replicas');
    const forced = await run(apply, ['--cluster=lab', '--force-conflicts']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((fake.get('apps/v1', 'Deployment', 'traefik', 'traefik')!.spec as { replicas: number }).replicas).toBe(2);
    expect(fake.get('networking.k8s.io/v1', 'NetworkPolicy', 'allow-dns', 'traefik')).toBeDefined();
  });

  it('dry-run prints a diff with the Secret masked and changes nothing', async () => {
    const valueFile = join(scratchDir('gw-value-'), 'token');
    writeFileSync(valueFile, `${token}-rotated`);
    expect((await run(secrets, ['set', '--cluster=lab', 'cloudflared/cloudflared-tunnel', 'token', `--value-file=${valueFile}`])).code).toBe(0);
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const before = writes().length;
    const result = await run(apply, ['--cluster=lab'], { GROUNDWORK_DRY_RUN: '1' });
    expect(result.code, result.stderr).toBe(0);
    expect(writes().length).toBe(before);
    expect(result.stdout).toContain('+++ desired/Secret cloudflared/cloudflared-tunnel');
    expect(result.stdout).toContain('***(changed)***');
    expect(result.stdout).not.toContain(token);
    expect(result.stderr).toContain('lab: 1 to change');
  });

  it('refuses to apply to an API server that belongs to another cluster', async () => {
    await fetch(`${fake.url}/api/v1/namespaces/kube-system/configmaps/groundwork-cluster?fieldManager=someone`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { cluster: 'prod' } }),
    });
    const result = await run(apply, ['--cluster=lab']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('belongs to cluster "prod"');
  });
});

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Address } from '@groundwork/kit';
import { validateClusterText } from '@groundwork/cluster';
import { createAdminClient, generateBundle, type SecretsBundle } from '../bundle/bundle.ts';
import { TalosClient } from './client.ts';
import { applyCluster, type ApplyContext } from './apply-flow.ts';
import { kubeCredentialsFromKubeconfig, kubeGet } from './kube.ts';
import { issue } from '../../test/certs.ts';
import { labClusterYaml } from '../../test/fixtures.ts';
import { FakeTalosNode, adminKubeconfig, sharedState, type SharedState } from '../../test/fake-talos.ts';
import { TalosKubernetes } from '../../test/talos-kubernetes.ts';
import { documentsToYaml, renderDocuments } from '../config/render.ts';

describe('the Talos API client against a Talos API server over real TLS', () => {
  let bundle: SecretsBundle;
  let admin: { crt: string; key: string };
  beforeAll(() => {
    bundle = generateBundle();
    admin = createAdminClient(bundle);
  });

  const node = (mode: 'maintenance' | 'configured') =>
    new FakeTalosNode({ name: 'cp-1', ip: '10.9.0.11', controlPlane: true, talosVersion: 'v1.13.9' }, bundle, sharedState(), () => '', mode);
  const connect = (fake: FakeTalosNode, credentials: ConstructorParameters<typeof TalosClient>[1]) =>
    new TalosClient({ host: '127.0.0.1', port: fake.port, serverName: '10.9.0.11' }, credentials, { timeoutMs: 3000 });

  it('talks to a node in maintenance mode without a client certificate', async () => {
    const fake = node('maintenance');
    await fake.start();
    const client = connect(fake, { mode: 'maintenance' });
    try {
      expect((await client.version()).tag).toBe('v1.13.9');
      const mtls = connect(fake, { mode: 'mtls', ca: bundle.certs.os.crt, ...admin });
      await expect(mtls.version()).rejects.toThrowError(/certificate/i);
      mtls.close();
    } finally {
      client.close();
      await fake.stop();
    }
  });

  it('in normal mode, accepts the talosconfig admin certificate and refuses one from another CA', async () => {
    const fake = node('configured');
    await fake.start();
    const other = generateBundle();
    const good = connect(fake, { mode: 'mtls', ca: bundle.certs.os.crt, ...admin });
    const foreign = connect(fake, { mode: 'mtls', ca: bundle.certs.os.crt, ...createAdminClient(other) });
    const insecure = connect(fake, { mode: 'maintenance' });
    try {
      expect((await good.version()).tag).toBe('v1.13.9');
      await expect(foreign.version()).rejects.toThrow();
      await expect(insecure.version()).rejects.toThrow();
    } finally {
      for (const c of [good, foreign, insecure]) c.close();
      await fake.stop();
    }
  });

  it("rejects with the node's reason when its health check reports a failure, and passes when it does not", async () => {
    const state = { ...sharedState(), etcdMembers: ['cp-1'] };
    const fake = new FakeTalosNode({ name: 'cp-1', ip: '10.9.0.11', controlPlane: true, talosVersion: 'v1.13.9' }, bundle, state, () => '', 'configured');
    await fake.start();
    const client = connect(fake, { mode: 'mtls', ca: bundle.certs.os.crt, ...admin });
    try {
      const seen: string[] = [];
      await client.healthCheck(['10.9.0.11'], [], 5, (m) => seen.push(m));
      expect(seen.at(-1)).toBe('waiting for all k8s nodes to report ready: OK');
      fake.healthFailure = 'node pi-w-1 is not ready';
      await expect(client.healthCheck(['10.9.0.11'], [], 5, () => {})).rejects.toThrow('health check on 10.9.0.11: node pi-w-1 is not ready');
    } finally {
      client.close();
      await fake.stop();
    }
  });

  it('refuses a client certificate whose extended key usage is not exactly ClientAuth', async () => {
    const fake = node('configured');
    await fake.start();
    const both = issue(bundle.certs.os, ['talos'], { organization: ['os:admin'], extKeyUsage: ['serverAuth', 'clientAuth'] });
    const reader = issue(bundle.certs.os, ['talos'], { organization: ['os:reader'], extKeyUsage: ['clientAuth'] });
    const wrongUsage = connect(fake, { mode: 'mtls', ca: bundle.certs.os.crt, ...both });
    const wrongRole = connect(fake, { mode: 'mtls', ca: bundle.certs.os.crt, ...reader });
    try {
      await expect(wrongUsage.version()).rejects.toThrowError(/extended key usage must be exactly ClientAuth/);
      await expect(wrongRole.version()).rejects.toThrowError(/role os:reader is not allowed/);
    } finally {
      wrongUsage.close();
      wrongRole.close();
      await fake.stop();
    }
  });
});

describe('apply: from nodes in maintenance mode to a running cluster (a real kube-apiserver), then nothing to do', () => {
  const cpIp = '10.9.0.11';
  let bundle: SecretsBundle;
  let state: SharedState;
  let nodes: FakeTalosNode[];
  let kubernetes: TalosKubernetes;
  let context: ApplyContext;
  let kubeconfig = '';
  const lines: string[] = [];

  beforeAll(async () => {
    bundle = generateBundle();
    kubernetes = await TalosKubernetes.create();
    state = sharedState(kubernetes);
    const cluster = validateClusterText(labClusterYaml({ workers: 2, recipients: ['age13tsk788v92sf0jaq5mn486vmru35cr3qhdqnhyf9c6xmjy6gmg4spm3yx3'] }), 'cluster.yaml').config!;
    kubeconfig = adminKubeconfig(bundle, 'lab', `https://${cpIp}:6443`);
    nodes = cluster.nodes.map((n) => new FakeTalosNode({ name: n.name, ip: n.ip, controlPlane: n.role === 'controlplane', talosVersion: 'v1.13.9' }, bundle, state, () => kubeconfig));
    for (const fake of nodes) await fake.start();
    const map = new Map<string, Address>(nodes.map((fake) => [`${fake.spec.ip}:50000`, { host: '127.0.0.1', port: fake.port }]));
    map.set(`${cpIp}:6443`, { host: '127.0.0.1', port: kubernetes.apiPort });
    const stream = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
    context = {
      cluster,
      configs: new Map(cluster.nodes.map((node) => [node.name, documentsToYaml(renderDocuments({ cluster, bundle, node }))])),
      mtls: { mode: 'mtls', ca: bundle.certs.os.crt, ...createAdminClient(bundle) },
      kubernetesCa: bundle.certs.k8s.crt,
      resolve: (host, port) => map.get(`${host}:${port}`) ?? { host, port },
      log: createLogger('test', stream),
      mode: 'AUTO',
      dryRun: false,
      timeouts: { callMs: 3000, nodeMs: 10_000, kubernetesMs: 90_000, pollMs: 200 },
    };
  }, 60_000);

  afterAll(async () => {
    for (const fake of nodes) await fake.stop();
    await kubernetes.stop();
  });

  it('installs every node, bootstraps etcd once, waits for the real API server with the admin kubeconfig and keeps it', async () => {
    const report = await applyCluster(context);
    expect(report.problems).toEqual([]);
    expect(report.nodes).toEqual({ 'cp-1': 'installed', 'w-1': 'installed', 'w-2': 'installed' });
    expect(report.bootstrap).toBe('done');
    expect(state.bootstrapCalls).toBe(1);
    expect(nodes.every((n) => n.mode === 'configured')).toBe(true);
    const plane = await kubernetes.started();
    // The control plane runs from the config cp-1 was given, with Talos's flags: anonymous requests are refused.
    expect(plane.spec.clusterName).toBe('lab');
    expect((await kubeGet({ server: `https://${cpIp}:6443`, ca: bundle.certs.k8s.crt }, '/version', context.resolve)).status).toBe(401);
    const credentials = kubeCredentialsFromKubeconfig(report.kubeconfig!);
    expect(credentials.server).toBe(`https://${cpIp}:6443`);
    const version = await kubeGet(credentials, '/version', context.resolve);
    expect(JSON.parse(version.body).gitVersion).toBe('v1.36.3');
    const listed = await kubeGet(credentials, '/api/v1/nodes', context.resolve);
    expect(listed.status).toBe(200);
    expect(lines.join('')).toMatch(/waiting for the Kubernetes API at https:\/\/10\.9\.0\.11:6443 to be ready \(/);
  }, 120_000);

  it('changes nothing on a second run and never bootstraps again', async () => {
    const applied = nodes.map((n) => n.applyCalls.filter((c) => !c.dryRun).length);
    const report = await applyCluster(context);
    expect(report.nodes).toEqual({ 'cp-1': 'unchanged', 'w-1': 'unchanged', 'w-2': 'unchanged' });
    expect(report.bootstrap).toBe('already bootstrapped');
    expect(state.bootstrapCalls).toBe(1);
    expect(nodes.map((n) => n.applyCalls.filter((c) => !c.dryRun).length)).toEqual(applied);
  });

  it('with the API published on another address (Talos in Docker), points the kubeconfig there and leaves the nodes on their endpoint', async () => {
    const published = `https://127.0.0.1:${kubernetes.apiPort}`;
    const cluster = { ...context.cluster, kubeconfigEndpoint: published };
    const report = await applyCluster({ ...context, cluster });
    expect(report.problems).toEqual([]);
    const credentials = kubeCredentialsFromKubeconfig(report.kubeconfig!);
    expect(credentials.server).toBe(published);
    // Straight to the published port, no address map: the API certificate must name 127.0.0.1.
    expect((await kubeGet(credentials, '/api/v1/nodes', (host, port) => ({ host, port }))).status).toBe(200);
    const [config] = renderDocuments({ cluster, bundle, node: cluster.nodes[0]! }) as Array<Record<string, any>>;
    expect(config!.cluster.controlPlane.endpoint).toBe(`https://${cpIp}:6443`);
    expect(config!.cluster.apiServer.certSANs).toContain('127.0.0.1');
  });

  it('a dry run shows which nodes would change, and changes none', async () => {
    const before = context.configs.get('w-1')!;
    context.configs.set('w-1', `${before}# new config\n`);
    const report = await applyCluster({ ...context, dryRun: true });
    expect(report.nodes['w-1']).toBe('would change');
    expect(report.nodes['cp-1']).toBe('unchanged');
    expect(nodes[1]!.config).toBe(before);
    const real = await applyCluster({ ...context, mode: 'NO_REBOOT' });
    expect(real.nodes['w-1']).toBe('applied');
    expect(nodes[1]!.applyCalls.at(-1)).toEqual({ mode: 'NO_REBOOT', dryRun: false });
  });

  it('names a node that does not answer, asking every node at once, and changes no node before it knows', async () => {
    await nodes[2]!.stop();
    const applied = nodes.map((n) => n.applyCalls.length);
    const started = Date.now();
    const report = await applyCluster({ ...context, timeouts: { ...context.timeouts, probeMs: 1500 } });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(nodes.map((n) => n.applyCalls.length)).toEqual(applied);
    expect(lines.join('')).toMatch(/plan: w-2 at 10\.9\.0\.22: does not answer/);
    expect(report.nodes['w-2']).toBe('unreachable');
    expect(report.problems).toEqual(['w-2 (10.9.0.22:50000) does not answer: is it powered on and on the network? A fresh machine answers at its DHCP address: give it with --maintenance=w-2=<address>']);
    await nodes[2]!.start(nodes[2]!.port);
  });

  it('asks silent nodes at once: three that never answer cost one probe timeout, not three', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const report = await applyCluster({ ...context, resolve: (host, p) => (p === 50000 ? { host: '127.0.0.1', port } : context.resolve(host, p)), timeouts: { ...context.timeouts, probeMs: 1500 } });
      const took = Date.now() - started;
      expect(report.nodes).toEqual({ 'cp-1': 'unreachable', 'w-1': 'unreachable', 'w-2': 'unreachable' });
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(3 * 1500);
    } finally {
      silent.close();
    }
  });

  it('installs a fresh machine where DHCP put it, and finds it at its own address once it reboots into its config', async () => {
    const dhcp = '192.168.77.9';
    const w2 = context.cluster.nodes.find((n) => n.name === 'w-2')!;
    await nodes[2]!.stop();
    // A new machine for w-2, booted without config: it answers only at its DHCP address until it is installed.
    const fresh = new FakeTalosNode({ name: 'w-2', ip: w2.ip, controlPlane: false, talosVersion: 'v1.13.9' }, bundle, state, () => kubeconfig, 'maintenance');
    await fresh.start();
    const nowhere = { host: '127.0.0.1', port: 9 };
    const resolve = (host: string, port: number): Address => {
      if (port === 50000 && host === dhcp) return fresh.mode === 'maintenance' ? { host: '127.0.0.1', port: fresh.port } : nowhere;
      if (port === 50000 && host === w2.ip) return fresh.mode === 'configured' ? { host: '127.0.0.1', port: fresh.port } : nowhere;
      return context.resolve(host, port);
    };
    try {
      const report = await applyCluster({ ...context, resolve, maintenanceAddresses: new Map([['w-2', dhcp]]) });
      expect(report.problems).toEqual([]);
      expect(report.nodes).toEqual({ 'cp-1': 'unchanged', 'w-1': 'unchanged', 'w-2': 'installed' });
      expect(fresh.mode).toBe('configured');
      expect(fresh.config).toBe(context.configs.get('w-2'));
      expect(lines.join('')).toContain(`w-2: in maintenance mode at ${dhcp}; it comes back at ${w2.ip} with its config`);
    } finally {
      await fresh.stop();
      await nodes[2]!.start(nodes[2]!.port);
    }
  });
});

import { chmodSync, cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initClusterKey, syncSopsConfig } from '@groundwork/secrets-sops';
import { listClusters } from '@groundwork/kit';
import { EXIT_CODES, loadCluster } from '@groundwork/cluster';
import { exampleCluster, isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { main as talos } from './talos-cli.ts';
import { main as generate } from './generate.ts';
import { main as verify } from './verify.ts';
import { main as apply } from './apply.ts';
import { maintenanceAddresses } from './layer.ts';
import { bundleFromYaml, type SecretsBundle } from './bundle/bundle.ts';
import { FakeTalosNode, adminKubeconfig, sharedState } from '../test/fake-talos.ts';
import { TalosKubernetes } from '../test/talos-kubernetes.ts';
import { labClusterYaml } from '../test/fixtures.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
const shared = join(repo, '..', 'shared', 'data', 'talos');

describe('talos-config on a cluster, from a new bundle to a verified running cluster', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  const rendered = (path: string) => join(ws.root, 'clusters/lab/rendered/talos-config', path);
  const run = (main: (argv: string[]) => Promise<number>, argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, main, argv, { ...env, ...extra });

  beforeAll(async () => {
    ws = scratchWorkspace({ lab: labClusterYaml() });
    env = isolatedEnv(scratchDir());
    await initClusterKey(ws.root, 'lab', 'x25519');
  });

  it('generate asks for the bundle, which only an explicit command creates', async () => {
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no Talos secrets bundle at clusters/lab/talos/secrets.sops.yaml: create it once with gw-talos init --cluster=lab');
    expect((await run(talos, ['init', '--cluster=lab'])).code).toBe(0);
    const again = await run(talos, ['init', '--cluster=lab']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; a cluster\'s secrets are created once');
    expect(ws.read('clusters/lab/talos/secrets.sops.yaml')).toMatch(/^ {4}mac: ENC\[/m);
  });

  it('renders private, byte-identical configs and a talosconfig pointing at the control planes', async () => {
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const files = readdirSync(rendered('nodes')).sort();
    expect(files).toEqual(['cp-1.yaml', 'w-1.yaml']);
    const first = files.map((f) => readFileSync(rendered(`nodes/${f}`), 'utf8'));
    expect(statSync(rendered('nodes/cp-1.yaml')).mode & 0o777).toBe(0o600);
    expect(statSync(rendered('.')).mode & 0o777).toBe(0o700);
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    expect(files.map((f) => readFileSync(rendered(`nodes/${f}`), 'utf8'))).toEqual(first);
    const talosconfig = readFileSync(rendered('talosconfig'), 'utf8');
    expect(talosconfig).toMatch(/^context: lab\ncontexts:\n {4}lab:\n {8}endpoints:\n {12}- 10\.9\.0\.11\n/);
    expect(readFileSync(rendered('boot-media.md'), 'utf8')).toContain('| cp-1 | metal | amd64 | https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.13.9/metal-amd64.iso |');
  });

  it('verify passes on a fresh rendering and names a rendered file that no longer matches', async () => {
    const ok = await run(verify, ['--cluster=lab']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('lab: static checks only (set GROUNDWORK_LIVE=1 to check the running cluster too)');
    const path = rendered('nodes/w-1.yaml');
    const original = readFileSync(path, 'utf8');
    chmodSync(path, 0o600);
    writeFileSync(path, original.replace('wipe: false', 'wipe: true'));
    const stale = await run(verify, ['--cluster=lab']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('rendered/talos-config/nodes/w-1.yaml does not match the cluster file, bundle and patches (re-run generate)');
    writeFileSync(path, original);
  });

  it('exports the bundle in talosctl\'s secrets.yaml form and imports a talosctl bundle', async () => {
    const out = join(scratchDir(), 'secrets.yaml');
    expect((await run(talos, ['export', '--cluster=lab', `--output=${out}`])).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const exported = bundleFromYaml(readFileSync(out, 'utf8'));
    expect(/^-----[A-Z]+ ([A-Z0-9 ]+)-----/.exec(exported.certs.os.key)?.[1]).toBe('ED25519 PRIVATE KEY');
    cpSync(join(ws.root, 'clusters/lab'), join(ws.root, 'clusters/copy'), { recursive: true, filter: (p) => !/talos|rendered/.test(p) });
    ws.write('clusters/copy/cluster.yaml', ws.read('clusters/lab/cluster.yaml').replace('name: lab', 'name: copy'));
    syncSopsConfig(ws.root, listClusters(ws.root).map((n) => loadCluster(ws.root, n)));
    const imported = await run(talos, ['import', '--cluster=copy', `--from=${join(shared, 'secrets.example.yaml')}`]);
    expect(imported.code, imported.stderr).toBe(0);
    expect((await run(generate, ['--cluster=copy'])).code).toBe(0);
    const talosBundle = bundleFromYaml(readFileSync(join(shared, 'secrets.example.yaml'), 'utf8'));
    expect(readFileSync(join(ws.root, 'clusters/copy/rendered/talos-config/nodes/w-1.yaml'), 'utf8')).toContain(`token: ${talosBundle.trustdinfo.token}`);
  });

  describe('apply and live verify against the Talos API stand-in and a real Kubernetes control plane', () => {
    let nodes: FakeTalosNode[];
    let kubernetes: TalosKubernetes;
    let map: string;

    beforeAll(async () => {
      const exported = join(scratchDir(), 'secrets.yaml');
      await run(talos, ['export', '--cluster=lab', `--output=${exported}`]);
      const bundle: SecretsBundle = bundleFromYaml(readFileSync(exported, 'utf8'));
      kubernetes = await TalosKubernetes.create();
      const state = sharedState(kubernetes);
      const kubeconfig = adminKubeconfig(bundle, 'lab', 'https://10.9.0.11:6443');
      nodes = [
        new FakeTalosNode({ name: 'cp-1', ip: '10.9.0.11', controlPlane: true, talosVersion: 'v1.13.9' }, bundle, state, () => kubeconfig),
        new FakeTalosNode({ name: 'w-1', ip: '10.9.0.21', controlPlane: false, talosVersion: 'v1.13.9' }, bundle, state, () => kubeconfig),
      ];
      for (const node of nodes) await node.start();
      map = [...nodes.map((n) => `${n.spec.ip}:50000=127.0.0.1:${n.port}`), `10.9.0.11:6443=127.0.0.1:${kubernetes.apiPort}`].join(',');
    });

    afterAll(async () => {
      for (const node of nodes) await node.stop();
      await kubernetes.stop();
    });

    const fast = () => ({ GROUNDWORK_ADDRESS_MAP: map, GROUNDWORK_POLL_MS: '200', GROUNDWORK_TALOS_NODE_TIMEOUT_MS: '10000', GROUNDWORK_KUBERNETES_TIMEOUT_MS: '90000' });

    it('installs, bootstraps, waits for the control plane its rendered config starts, and keeps the kubeconfig; a second apply changes nothing', async () => {
      const first = await run(apply, ['--cluster=lab'], fast());
      expect(first.code, `${first.stderr}\n${kubernetes.failure?.message ?? ''}`).toBe(0);
      expect(first.stderr).toContain('lab: 2 installed; etcd done; kubeconfig in clusters/lab/rendered/kubeconfig');
      expect(nodes.map((n) => n.config)).toEqual([readFileSync(rendered('nodes/cp-1.yaml'), 'utf8'), readFileSync(rendered('nodes/w-1.yaml'), 'utf8')]);
      expect(statSync(join(ws.root, 'clusters/lab/rendered/kubeconfig')).mode & 0o777).toBe(0o600);
      const plane = await kubernetes.started();
      expect(plane.spec.endpoint).toBe('https://10.9.0.11:6443');
      const second = await run(apply, ['--cluster=lab'], fast());
      expect(second.stderr).toContain('lab: 2 unchanged; etcd already bootstrapped');
      // A dry run says so on every line it prints.
      const dry = await run(apply, ['--cluster=lab'], { ...fast(), GROUNDWORK_DRY_RUN: '1' });
      expect(dry.code, dry.stderr).toBe(0);
      const applyLines = dry.stderr.split('\n').filter((l) => l.includes('[talos-config:apply'));
      expect(applyLines.length).toBeGreaterThan(3);
      for (const line of applyLines) expect(line).toContain('[talos-config:apply, dry run]');
    }, 120_000);

    it('live verify checks versions, etcd members, health and Kubernetes nodes', async () => {
      const live = await run(verify, ['--cluster=lab'], { ...fast(), GROUNDWORK_LIVE: '1', GROUNDWORK_TALOS_HEALTH_WAIT_SECONDS: '5' });
      expect(live.code, live.stderr).toBe(0);
      expect(live.stderr).toContain('health: waiting for etcd to be healthy: OK');
      expect(live.stderr).toContain('lab: 2 configs match the bundle, PKI checks pass, live cluster healthy');
      await nodes[1]!.stop();
      const down = await run(verify, ['--cluster=lab'], { ...fast(), GROUNDWORK_LIVE: '1', GROUNDWORK_TALOS_CALL_TIMEOUT_MS: '2000' });
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/lab: live: w-1: version on 10\.9\.0\.21: /);
      // apply with a node that does not answer: exit code 5 (EXIT_CODES.unreachable), told apart from problems.
      const silent = await run(apply, ['--cluster=lab'], { ...fast(), GROUNDWORK_TALOS_PROBE_TIMEOUT_MS: '2000' });
      expect(silent.code).toBe(EXIT_CODES.unreachable);
      expect(silent.stderr).toContain('w-1 (10.9.0.21:50000) does not answer');
      await nodes[1]!.start(nodes[1]!.port);
    });
  });
});

describe('the example clusters', () => {
  it('render from their committed bundles, validate, and stay byte-identical across two runs', async () => {
    const { loadTalosSecrets } = await import('./talos-secrets.ts');
    const { renderCluster } = await import('./cluster-render.ts');
    for (const name of listClusters(repo)) {
      const cluster = loadCluster(repo, name);
      const secrets = await loadTalosSecrets(repo, cluster);
      if ('problem' in secrets) throw new Error(secrets.problem);
      const first = renderCluster(repo, cluster, secrets.bundle, secrets.client);
      const second = renderCluster(repo, cluster, secrets.bundle, secrets.client);
      expect(first.problems, name).toEqual([]);
      expect(first.files.length, name).toBe(cluster.config.nodes.length + 2);
      expect(second.files.map((f) => [f.path, Buffer.from(f.data).toString('base64')])).toEqual(first.files.map((f) => [f.path, Buffer.from(f.data).toString('base64')]));
    }
  });
});

describe('maintenance addresses for fresh machines (--maintenance, GROUNDWORK_MAINTENANCE_ADDRESSES)', () => {
  it('takes NODE=IP pairs and names every mistake', () => {
    const cluster = exampleCluster('pi-fleet');
    expect(maintenanceAddresses('pi-cp-1=192.168.1.150, pi-w-1=192.168.1.151', cluster)).toEqual({
      addresses: new Map([['pi-cp-1', '192.168.1.150'], ['pi-w-1', '192.168.1.151']]),
      problems: [],
    });
    expect(maintenanceAddresses('pi-w-9=192.168.1.9,pi-w-1=dhcp-host,pi-w-2', cluster).problems).toEqual([
      '--maintenance: pi-fleet has no node pi-w-9',
      '--maintenance: dhcp-host (for pi-w-1) is not an IP address',
      '--maintenance: "pi-w-2" is not NODE=ADDRESS',
    ]);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '@groundwork/kit';
import { loadCluster } from '@groundwork/cluster';
import { initClusterKey } from '@groundwork/secrets-sops';
import { exampleCluster, isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { freePort } from '@groundwork/testkit/services';
import { main as talos } from '../talos-cli.ts';
import { main as generate } from '../generate.ts';
import { bundleFromYaml, type SecretsBundle } from '../bundle/bundle.ts';
import { FakeTalosNode, adminKubeconfig, sharedState, type SharedState } from '../../test/fake-talos.ts';
import { TalosKubernetes } from '../../test/talos-kubernetes.ts';
import { DockerEngineStandIn, type Container } from '../../test/docker-engine.ts';
import { compareApiVersions, engineTarget } from './engine.ts';
import { dockerCommand, type DockerCommandOptions } from './docker-cli.ts';

const repo = join(import.meta.dirname, '..', '..', '..', '..');
const IMAGE = 'ghcr.io/siderolabs/talos:v1.13.9';
const NODES = [
  { name: 'dev-cp-1', ip: '10.5.0.2', role: 'controlplane', talosPort: 50000 },
  { name: 'dev-w-1', ip: '10.5.0.3', role: 'worker', talosPort: 50001 },
  { name: 'dev-w-2', ip: '10.5.0.4', role: 'worker', talosPort: 50002 },
] as const;

describe('DOCKER_HOST and API versions', () => {
  it('reads unix and tcp DOCKER_HOST values and compares versions by number', () => {
    expect(engineTarget({})).toEqual({ socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' });
    expect(engineTarget({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toMatchObject({ host: '10.0.0.5', port: 2375 });
    expect(() => engineTarget({ DOCKER_HOST: 'ssh://me@box' })).toThrow('DOCKER_HOST=ssh://me@box: use unix:///path/to/docker.sock or tcp://host:port');
    expect(compareApiVersions('1.9', '1.40')).toBe(-1);
    expect(compareApiVersions('1.54', '1.54')).toBe(0);
  });
});

describe('gw-talos docker on docker-dev, against a stand-in of the Docker Engine API and Talos API stand-ins', () => {
  let ws: ScratchWorkspace;
  let bundle: SecretsBundle;
  let engine: DockerEngineStandIn;
  let state: SharedState;
  let fakes: Map<string, FakeTalosNode>;
  let kubernetes: TalosKubernetes;
  let env: NodeJS.ProcessEnv;
  const lines: string[] = [];
  const rendered = (node: string) => readFileSync(join(ws.root, 'clusters/docker-dev/rendered/talos-config/nodes', `${node}.yaml`), 'utf8');
  const sink = { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream;
  const cluster = () => loadCluster(ws.root, 'docker-dev');
  const docker = async (sub: 'up' | 'down' | 'status', options: DockerCommandOptions = {}) => {
    const out: string[] = [];
    lines.length = 0;
    // As gw-talos does: the logger marks every line of a dry run.
    const log: Logger = createLogger('gw-talos docker', sink, { dryRun: options.dryRun ?? false });
    const code = await dockerCommand(sub, ws.root, cluster(), { env, stdout: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream, ...options }, log);
    return { code, stdout: out.join(''), log: lines.join('') };
  };

  /** A stand-in engine whose started containers boot a Talos API stand-in with the config in USERDATA, as Talos does. */
  const newEngine = async (options: ConstructorParameters<typeof DockerEngineStandIn>[0] = { pullable: [IMAGE] }) => {
    const standIn = await new DockerEngineStandIn(options).start();
    standIn.onStart = async (c: Container) => {
      const fake = fakes.get(c.Name.slice(1))!;
      const userdata = (c.Config.Env as string[]).find((e) => e.startsWith('USERDATA='))!.slice('USERDATA='.length);
      fake.config = Buffer.from(userdata, 'base64').toString('utf8');
      fake.mode = 'configured';
      await fake.start(fake.port);
      // Booted with its config: machined's stand-in registers the node once a control plane runs.
      state.machined?.configured(fake.spec, fake.config);
    };
    standIn.onRemove = async (c: Container) => {
      const fake = fakes.get(c.Name.slice(1));
      await fake?.stop();
      if (fake) state.machined?.wiped?.(fake.spec);
      // The volumes went with the container (v=1): etcd's data too.
      if (standIn.containers.size === 0) state.etcdMembers.length = 0;
    };
    env = { ...env, DOCKER_HOST: `unix://${standIn.socketPath}` };
    return standIn;
  };

  beforeAll(async () => {
    const text = readFileSync(join(repo, 'clusters/docker-dev/cluster.yaml'), 'utf8').replace(/\n {4}- age1\w+/, '').replace('  age:\n', '  age: []\n');
    ws = scratchWorkspace({ 'docker-dev': text });
    const isolated = isolatedEnv(scratchDir());
    await initClusterKey(ws.root, 'docker-dev', 'x25519');
    for (const argv of [['init', '--cluster=docker-dev']]) expect((await runIn(ws.root, talos, argv, isolated)).code).toBe(0);
    expect((await runIn(ws.root, generate, ['--cluster=docker-dev'], isolated)).code).toBe(0);
    const exported = join(scratchDir(), 'secrets.yaml');
    await runIn(ws.root, talos, ['export', '--cluster=docker-dev', `--output=${exported}`], isolated);
    bundle = bundleFromYaml(readFileSync(exported, 'utf8'));
    kubernetes = await TalosKubernetes.create();
    state = sharedState(kubernetes);
    const kubeconfig = adminKubeconfig(bundle, 'docker-dev', 'https://10.5.0.2:6443');
    fakes = new Map();
    for (const n of NODES) {
      const fake = new FakeTalosNode({ name: n.name, ip: n.ip, controlPlane: n.role === 'controlplane', talosVersion: 'v1.13.9' }, bundle, state, () => kubeconfig, 'configured');
      fake.port = await freePort();
      fakes.set(n.name, fake);
    }
    // The Kubernetes API apply waits for at kubeconfigEndpoint (127.0.0.1:6444): the real control plane machined's
    // stand-in starts from dev-cp-1's config when etcd is bootstrapped.
    const kubePort = kubernetes.apiPort;
    // The published host ports, as the tests can have them: each to its node's stand-in.
    const map = [...NODES.map((n) => `127.0.0.1:${n.talosPort}=127.0.0.1:${fakes.get(n.name)!.port}`), `127.0.0.1:6444=127.0.0.1:${kubePort}`].join(',');
    env = { ...process.env, ...isolated, GROUNDWORK_ADDRESS_MAP: map, GROUNDWORK_POLL_MS: '100', GROUNDWORK_TALOS_NODE_TIMEOUT_MS: '10000', GROUNDWORK_KUBERNETES_TIMEOUT_MS: '90000', GROUNDWORK_TALOS_PROBE_TIMEOUT_MS: '2000' };
    engine = await newEngine();
  }, 120_000);

  afterAll(async () => {
    for (const fake of fakes?.values() ?? []) await fake.stop();
    await engine?.stop();
    await kubernetes?.stop();
  });

  it('up pings, pulls the pinned image, creates the network and the three containers in order, then applies and bootstraps etcd', async () => {
    const result = await docker('up');
    expect(result.code, result.log).toBe(0);
    // The control plane that came up from dev-cp-1's config has every container's node registered.
    const plane = await kubernetes.started();
    await kubernetes.settled();
    expect((await plane.client.list('v1', 'Node')).map((n) => n.metadata.name).sort()).toEqual(NODES.map((n) => n.name));
    expect(engine.requests.map((r) => `${r.method} ${r.path}${r.path === '/containers/create' ? `?name=${r.query.name}` : ''}`.replace(/\/containers\/[0-9a-f]{64}/, '/containers/{id}'))).toEqual([
      'HEAD /_ping',
      'GET /images/json',
      'POST /images/create',
      'GET /networks',
      'POST /networks/create',
      'GET /containers/json',
      ...NODES.flatMap((n) => [`POST /containers/create?name=${n.name}`, 'POST /containers/{id}/start', 'GET /containers/{id}/json']),
    ]);
    expect(engine.requests.slice(1).every((r) => r.version === '1.54')).toBe(true);
    const labels = { 'talos.cluster.name': 'docker-dev', 'talos.owned': 'true' };
    expect(JSON.parse(engine.requests[1]!.query.filters!)).toEqual({ reference: { [IMAGE]: true } });
    expect(engine.requests[2]!.query).toEqual({ fromImage: 'ghcr.io/siderolabs/talos', tag: 'v1.13.9' });
    expect(JSON.parse(engine.requests[3]!.query.filters!)).toEqual({ label: { 'talos.cluster.name=docker-dev': true, 'talos.owned=true': true } });
    expect(engine.requests[4]!.body).toEqual({
      Name: 'talos-docker-dev',
      Driver: '',
      IPAM: { Driver: '', Options: null, Config: [{ Subnet: '10.5.0.0/24', Gateway: '10.5.0.1' }] },
      Options: { 'com.docker.network.driver.mtu': '1500' },
      Labels: labels,
    });
    const creates = engine.requests.filter((r) => r.path === '/containers/create');
    for (const [i, n] of NODES.entries()) {
      const body = creates[i]!.body as Record<string, any>;
      expect(Object.keys(body)).toEqual(['Hostname', 'Image', 'Env', 'Labels', 'ExposedPorts', 'HostConfig', 'NetworkingConfig']);
      expect(body.Hostname).toBe(n.name);
      expect(body.Image).toBe(IMAGE);
      // capacity: { cpu: 2, memory: 4Gi } in the cluster file.
      expect(body.Env.slice(0, 2)).toEqual(['PLATFORM=container', 'TALOSSKU=2CPU-4096RAM']);
      expect(body.Env[2]).toMatch(/^USERDATA=[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(body.Env[2].slice('USERDATA='.length), 'base64').toString('utf8')).toBe(rendered(n.name));
      expect(body.Labels).toEqual({ ...labels, 'talos.type': n.role, 'groundwork.dev/cluster': 'docker-dev' });
      const ports: Record<string, string> = n.role === 'controlplane' ? { '50000/tcp': String(n.talosPort), '6443/tcp': '6444' } : { '50000/tcp': String(n.talosPort) };
      expect(body.ExposedPorts).toEqual(Object.fromEntries(Object.keys(ports).map((p) => [p, {}])));
      expect(body.HostConfig).toEqual({
        Privileged: true,
        SecurityOpt: ['seccomp:unconfined'],
        ReadonlyRootfs: true,
        NanoCpus: 2_000_000_000,
        Memory: 4 * 1024 ** 3,
        Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0' },
        Mounts: [
          ...['/run', '/system', '/tmp'].map((Target) => ({ Type: 'tmpfs', Target })),
          ...['/var', '/system/state', '/etc/cni', '/etc/kubernetes', '/usr/libexec/kubernetes', '/opt'].map((Target) => ({ Type: 'volume', Target })),
        ],
        PortBindings: Object.fromEntries(Object.entries(ports).map(([p, h]) => [p, [{ HostIp: '127.0.0.1', HostPort: h }]])),
      });
      expect(body.NetworkingConfig).toEqual({ EndpointsConfig: { 'talos-docker-dev': { NetworkID: 'talos-docker-dev', IPAMConfig: { IPv4Address: n.ip } } } });
    }
    // Then the normal apply, through the published ports: the nodes booted with their configs, etcd is bootstrapped once.
    expect(result.log).toContain('docker-dev: containers 3 created; 3 unchanged; etcd done; kubeconfig in clusters/docker-dev/rendered/kubeconfig');
    expect(state.bootstrapCalls).toBe(1);
    expect(state.etcdMembers).toEqual(['dev-cp-1']);
    expect(readFileSync(join(ws.root, 'clusters/docker-dev/rendered/kubeconfig'), 'utf8')).toContain('server: https://127.0.0.1:6444');
    expect(engine.volumes.size).toBe(18);
  });

  it('status lists the running containers, their addresses and ports, and asks Talos through the published port', async () => {
    const { code, stdout } = await docker('status', { json: true });
    expect(code).toBe(0);
    const status = JSON.parse(stdout);
    expect(status.network).toEqual({ name: 'talos-docker-dev', subnet: '10.5.0.0/24' });
    expect(status.nodes).toEqual(NODES.map((n) => ({
      name: n.name,
      state: 'running',
      ip: n.ip,
      ports: n.role === 'controlplane' ? ['127.0.0.1:6444->6443/tcp', '127.0.0.1:50000->50000/tcp'] : [`127.0.0.1:${n.talosPort}->50000/tcp`],
      talosPort: n.talosPort,
      talos: 'Talos v1.13.9',
    })));
  });

  it('a second up creates nothing, leaves the running containers alone and finds etcd bootstrapped', async () => {
    const before = engine.requests.length;
    const result = await docker('up');
    expect(result.code, result.log).toBe(0);
    expect(engine.requests.slice(before).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
    expect(result.log).toContain('dev-w-2: already running, left alone');
    expect(result.log).toContain('docker-dev: containers 3 running; 3 unchanged; etcd already bootstrapped');
    expect(state.bootstrapCalls).toBe(1);
  });

  it('a dry run of down sends no mutating request and says "dry run" on every line', async () => {
    const before = engine.mutating().length;
    const result = await docker('down', { dryRun: true, forget: true });
    expect(result.code).toBe(0);
    expect(engine.mutating().length).toBe(before);
    const printed = result.log.trim().split('\n');
    expect(printed.length).toBe(6);
    for (const line of printed) expect(line).toContain('dry run');
    expect(result.log).toContain('would remove container dev-cp-1 (running) and its volumes');
    expect(existsSync(join(ws.root, 'clusters/docker-dev/rendered/kubeconfig'))).toBe(true);
  });

  it('down removes the containers with their volumes (v=1) and the network, keeps configs and kubeconfig; status then shows nothing', async () => {
    const before = engine.requests.length;
    const result = await docker('down');
    expect(result.code, result.log).toBe(0);
    const sent = engine.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/, '{id}')} ${JSON.stringify(r.query)}`);
    expect(sent.filter((s) => s.startsWith('DELETE'))).toEqual([...NODES.map(() => 'DELETE /containers/{id} {"force":"1","v":"1"}'), 'DELETE /networks/{id} {}']);
    expect([engine.containers.size, engine.networks.size, engine.volumes.size]).toEqual([0, 0, 0]);
    expect(existsSync(join(ws.root, 'clusters/docker-dev/rendered/kubeconfig'))).toBe(true);
    expect(existsSync(join(ws.root, 'clusters/docker-dev/rendered/talos-config/nodes/dev-cp-1.yaml'))).toBe(true);
    const status = JSON.parse((await docker('status', { json: true })).stdout);
    expect(status).toEqual({ cluster: 'docker-dev', nodes: NODES.map((n) => ({ name: n.name, state: 'missing', ports: [] })) });
    const forget = await docker('down', { forget: true });
    expect(forget.log).toContain('removed clusters/docker-dev/rendered/kubeconfig');
    expect(existsSync(join(ws.root, 'clusters/docker-dev/rendered/kubeconfig'))).toBe(false);
  });

  it('a dry run of up asks only read-only questions and says "dry run" on every line', async () => {
    const before = engine.requests.length;
    const result = await docker('up', { dryRun: true, json: true });
    expect(result.code).toBe(0);
    expect(engine.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /_ping', 'GET /images/json', 'GET /networks', 'GET /containers/json']);
    expect(engine.containers.size + engine.networks.size).toBe(0);
    for (const line of result.log.trim().split('\n')) expect(line).toContain('dry run');
    expect(JSON.parse(result.stdout).nodes).toEqual({ 'dev-cp-1': 'would create', 'dev-w-1': 'would create', 'dev-w-2': 'would create' });
  });

  describe('refusals', () => {
    let other: DockerEngineStandIn | undefined;
    afterEach(async () => {
      await other?.stop();
      other = undefined;
    });

    it('names the container whose name is taken, with Docker\'s message, and creates nothing after it', async () => {
      other = await newEngine({ images: [IMAGE] });
      other.containers.set('f'.repeat(64), { Id: 'f'.repeat(64), Name: '/dev-cp-1', Config: { Image: 'nginx', Labels: {} }, HostConfig: {}, Network: { name: 'bridge', ip: '172.17.0.2' }, Running: true, Volumes: [] });
      await expect(docker('up')).rejects.toThrow(`Docker refused creating container dev-cp-1: Conflict. The container name "/dev-cp-1" is already in use by container "${'f'.repeat(64)}". You have to remove (or rename) that container to be able to reuse that name. (HTTP 409)`);
      expect(other.requests.filter((r) => r.path === '/containers/create')).toHaveLength(1);
    });

    it('refuses a daemon older than API 1.40, and speaks an older daemon\'s version', async () => {
      other = await newEngine({ images: [IMAGE], apiVersion: '1.39' });
      await expect(docker('status')).rejects.toThrow(/the Docker engine at unix:\/\/.*docker\.sock speaks API 1\.39; gw-talos docker needs 1\.40 or newer/);
      other.apiVersion = '1.43';
      expect((await docker('status')).code).toBe(0);
      expect(other.requests.at(-1)!.version).toBe('1.43');
    });

    it('names the subnet overlap, the taken host port and a failed pull with the daemon\'s words', async () => {
      other = await newEngine({ images: [IMAGE] });
      other.networks.set('n1', { Id: 'n1', Name: 'kind', Subnet: '10.5.0.0/16', Labels: {} });
      await expect(docker('up')).rejects.toThrow('Docker refused creating network talos-docker-dev: invalid pool request: Pool overlaps with other one on this address space (HTTP 403)');
      other.networks.clear();
      other.containers.set('e'.repeat(64), { Id: 'e'.repeat(64), Name: '/kind-control-plane', Config: { Labels: {} }, HostConfig: { PortBindings: { '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '6444' }] } }, Network: { name: 'kind', ip: '172.18.0.2' }, Running: true, Volumes: [] });
      await expect(docker('up')).rejects.toThrow(/Docker refused starting container dev-cp-1: driver failed programming external connectivity on endpoint dev-cp-1 \([0-9a-f]{12}\): Bind for 127\.0\.0\.1:6444 failed: port is already allocated \(HTTP 500\)/);
      const pull = await newEngine({ pullable: [] });
      try {
        await expect(docker('up')).rejects.toThrow(`Docker refused pulling ${IMAGE}: manifest unknown (HTTP 200)`);
        expect(pull.mutating().map((r) => r.path)).toEqual(['/images/create']);
      } finally {
        await pull.stop();
      }
    });

    it('refuses a cluster whose nodes are not all platform: docker, naming the field, before asking Docker', async () => {
      const fleet = exampleCluster('pi-fleet');
      await expect(dockerCommand('up', repo, fleet, { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } }, createLogger('gw-talos docker', sink))).rejects.toThrow(/pi-fleet cannot run in Docker:\n {2}- nodes\[0\] \(\S+\) has platform: rpi4; gw-talos docker runs only clusters whose nodes all have platform: docker/);
      await expect(docker('status', { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } })).rejects.toThrow('no Docker engine answers at unix:///nonexistent.sock (DOCKER_HOST)');
    });
  });
});

import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { programVersion } from '@groundwork/testkit/programs';
import { BUSYBOX_RUNTIME, LOCAL_PATH_HELPER_CEL, METRICS_SERVER_CEL, TestClient, addNodes, advertiseAddress, approveCertificateRequest, requestNodeCertificate, serviceAccountToken, startKubeletStandIn, startMetricsServer, type KubeletStandIn, describeRequest, isLocalPathHelper, mutatingRequests, startCiliumOperator, startControlPlane, startLocalPathProvisioner, startPodRunner, testNode, throwawaySpec, type ControlPlane, type PodRunner, type ProcessPod } from '@groundwork/testkit/kube';
import { IMAGES } from './versions.ts';
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

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === '.git') return [];
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * platform-core applied by its own scripts to a real API server with its controllers, a scheduler and three kwok
 * Raspberry Pis, with Cilium's real operator running on the rendered Deployment and cilium-config (it registers
 * Cilium's CRDs and hands the Ingress its address from the rendered pool), local-path-provisioner's real
 * program behind the default StorageClass, whose helper pods and the storage probe's pod run for real, and
 * metrics-server's real program behind its APIService, scraping kubelet stand-ins whose serving certificates
 * the cert approver's ServiceAccount approved and the real controller-manager signed.
 */
describe('platform-core from the cluster file to a cluster that matches it', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  let plane: ControlPlane;
  let operator: Promise<ProcessPod>;
  let provisioner: ReturnType<typeof startLocalPathProvisioner>;
  let runner: PodRunner;
  let metricsServer: ReturnType<typeof startMetricsServer>;
  let kubelets: Promise<KubeletStandIn[]>;
  const NODES = ['cp-1', 'w-1', 'w-2'];
  // Node addresses may not be loopback: the kubelet stand-ins and metrics-server's pod use this machine's.
  const address = advertiseAddress();
  /** A client acting as the approver's ServiceAccount, with its rendered RBAC. */
  const approverClient = async () => new TestClient({ server: plane.url, ca: plane.spec.ca.crt, token: await serviceAccountToken(plane, 'metrics-server', 'kubelet-serving-cert-approver') });
  const token = `eyJhIjoi-tunnel-${randomBytes(12).toString('hex')}`;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, main, argv, { ...env, ...extra });
  /** What the layer's scripts (user admin) wrote while `work` ran, from the audit log. */
  async function writesDuring<T>(work: () => Promise<T>): Promise<{ result: T; writes: string[] }> {
    const before = plane.audit().length;
    const result = await work();
    return { result, writes: mutatingRequests(plane.audit().slice(before), 'admin').map(describeRequest).filter((w) => !w.includes('groundwork-')) };
  }
  const get = (apiVersion: string, kind: string, name: string, namespace?: string) => plane.client.get(apiVersion, kind, name, namespace);

  beforeAll(async () => {
    const real = join(import.meta.dirname, 'secrets.ts');
    ws = scratchWorkspace({ lab: CLUSTER }, { 'platform-core': `export { default } from ${JSON.stringify(real)};\n` });
    env = isolatedEnv(scratchDir('gw-home-'), { GROUNDWORK_POLL_MS: '200', GROUNDWORK_PROBE_TIMEOUT_MS: '60000' });
    // The pods run for real: the storage probe's, and local-path's helpers (the provisioner's own pod is kwok's).
    // metrics-server's pod is this test's to run too (startMetricsServer plays its kubelet).
    const probe = `self.metadata.namespace == 'groundwork-storage-probe' || ${LOCAL_PATH_HELPER_CEL} || ${METRICS_SERVER_CEL}`;
    if (!address) throw new Error('this machine has no non-loopback IPv4 address for the kubelet stand-ins');
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'lab'), kwok: { leavePods: [{ cel: { expression: `!(${probe})` } }] }, aggregatorRouting: true });
    const pi = { cpu: 4, memoryBytes: 8 * 1024 ** 3 };
    await addNodes(plane.client, NODES.map((name) => testNode(name, pi)));
    // Volumes live in the runner's node folders.
    runner = startPodRunner({
      client: plane.client,
      owns: (pod) => pod.metadata.namespace === 'groundwork-storage-probe' || isLocalPathHelper(pod),
      runtimeFor: (image) => (image === IMAGES.busybox ? BUSYBOX_RUNTIME : { path: [] }),
    });
    ws.useKubeconfig('lab', plane.kubeconfig());
    expect((await run(secrets, ['init', '--cluster=lab', '--x25519'])).code).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await (await operator?.catch(() => undefined))?.stop();
    await (await provisioner?.catch(() => undefined))?.stop();
    await (await metricsServer?.catch(() => undefined))?.stop();
    for (const kubelet of (await kubelets?.catch(() => undefined)) ?? []) await kubelet.stop();
    await runner?.stop();
    await plane?.stop();
  });

  it('generate renders without the tunnel token and says how to provide it; apply refuses until it exists', async () => {
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('lab: not provided yet (apply refuses until it is): clusters/lab/secrets/cloudflared/cloudflared-tunnel.sops.yaml: token');
    expect(result.stderr).toContain('gw-secrets set --cluster=lab cloudflared/cloudflared-tunnel token');
    const refused = await run(apply, ['--cluster=lab']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('lab: missing secret value: clusters/lab/secrets/cloudflared/cloudflared-tunnel.sops.yaml: token');
  });

  it('generate renders one file per component and copies the encrypted Secret, never its value', async () => {
    const valueFile = join(scratchDir('gw-value-'), 'token');
    writeFileSync(valueFile, token);
    expect((await run(secrets, ['set', '--cluster=lab', 'cloudflared/cloudflared-tunnel', 'token', `--value-file=${valueFile}`])).code).toBe(0);
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: \d+ objects in 5 components, 1 encrypted Secret/);
    const rendered = readdirSync(join(ws.root, 'clusters/lab/rendered/platform-core')).sort();
    // .inputs.sha256: what the rendering was made from, so an unchanged cluster is not rendered again.
    expect(rendered).toEqual(['.inputs.sha256', 'cilium.yaml', 'cloudflared.yaml', 'footprint.md', 'index.yaml', 'local-path.yaml', 'metrics-server.yaml', 'resilience.md', 'secrets', 'traefik.yaml']);
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

  it('apply brings up Cilium first, waits for the CRDs its real operator registers, decrypts the Secret in memory and records the cluster', async () => {
    // Cilium's operator starts when its Deployment is applied, as its pod would.
    operator = startCiliumOperator(plane);
    provisioner = startLocalPathProvisioner(plane);
    // Each node's kubelet asks for its serving certificate as the node; the approver's ServiceAccount approves it
    // once applied (retrying while its RoleBinding is on its way), and the controller-manager signs it.
    kubelets = (async () => {
      await plane.client.waitFor('the approver\'s ServiceAccount', () => get('v1', 'ServiceAccount', 'kubelet-serving-cert-approver', 'metrics-server'), 180_000);
      const approver = await approverClient();
      const approve = async (name: string) => {
        const answer = await plane.client.waitFor(`approval of ${name}`, async () => {
          const response = await approveCertificateRequest(approver, name, 'KubeletServingCertApproverTest');
          return response.status === 403 ? undefined : response;
        }, 60_000, 500);
        if (answer.status !== 200) throw new Error(`approving ${name}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
      };
      return Promise.all(NODES.map((node, i) => startKubeletStandIn(plane, node, { address: address!, approve, cpuMilli: 200 + 100 * i, memoryBytes: (512 + 256 * i) * 1024 ** 2 })));
    })();
    metricsServer = kubelets.then(() => startMetricsServer(plane, { address: address! }));
    const { result, writes: order } = await writesDuring(() => run(apply, ['--cluster=lab']));
    const failed = async () => `${result.stderr}\n${(await operator).program.tail()}\n${await metricsServer.then((m) => m.program.tail(), String)}`;
    expect(result.code, await failed()).toBe(0);
    expect(order.indexOf('patch daemonsets.apps cilium/cilium')).toBeLessThan(order.indexOf('patch namespaces traefik'));
    expect(order.indexOf('patch deployments.apps cilium/cilium-operator')).toBeLessThan(order.indexOf('patch ciliumloadbalancerippools.cilium.io default'));
    expect(order.indexOf('patch ciliuml2announcementpolicies.cilium.io default')).toBeLessThan(order.indexOf('patch namespaces metrics-server'));
    expect(order.indexOf('patch namespaces cloudflared')).toBeLessThan(order.indexOf('patch secrets cloudflared/cloudflared-tunnel'));
    // The CRDs are Cilium's own, registered by its operator, not by the layer.
    expect((await get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'ciliumloadbalancerippools.cilium.io'))?.metadata.labels?.['io.cilium.k8s.crd.schema.version']).toBeDefined();
    expect(order.filter((w) => w.includes('customresourcedefinitions'))).toEqual([]);
    const secret = (await get('v1', 'Secret', 'cloudflared-tunnel', 'cloudflared'))!;
    expect(Buffer.from((secret.data as Record<string, string>).token!, 'base64').toString()).toBe(token);
    expect(secret.metadata.labels).toMatchObject({ 'groundwork.dev/layer': 'platform-core', 'groundwork.dev/cluster': 'lab' });
    expect((await get('v1', 'ConfigMap', 'groundwork-cluster', 'kube-system'))?.data).toEqual({ cluster: 'lab' });
    expect(result.stderr).toContain('recorded this API server as cluster lab');
    expect(filesUnder(ws.root).filter((f) => readFileSync(f, 'utf8').includes(token))).toEqual([]);
  }, 240_000);

  it('a second apply changes nothing, says so, and sends no write', async () => {
    const { result, writes } = await writesDuring(() => run(apply, ['--cluster=lab']));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/lab: no changes: all \d+ objects are as rendered/);
    expect(writes).toEqual([]);
  }, 120_000);

  it('live verify proves the platform: nodes, objects, workloads, a provisioned volume and the ingress address', async () => {
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1' });
    expect(result.code, `${result.stderr}\n${JSON.stringify(runner.runs)}`).toBe(0);
    expect(result.stderr).toContain('lab:   nodes      3/3 Ready');
    expect(result.stderr).toMatch(/lab: {3}objects {4}(\d+)\/\1 present, 0 drifted/);
    expect(result.stderr).toMatch(/lab: {3}workloads {2}(\d+)\/\1 available/);
    expect(result.stderr).toMatch(/lab: {3}storage {4}local-path provisioned and mounted a 16Mi volume/);
    expect(result.stderr).toContain('lab:   ingress    traefik/traefik at 192.168.1.40');
    await runner.settled();
    expect(runner.runs.find((r) => r.pod === 'groundwork-storage-probe/probe')?.containers[0]).toMatchObject({ code: 0, log: 'groundwork\n' });
  }, 120_000);

  it('local-path\'s real provisioner: ready under its RBAC, provisions a claim through a helper pod on the chosen node, and tears it down though another user owns the files', async () => {
    const lpp = await provisioner;
    // Its readiness lists ConfigMaps, Pods, claims, volumes and StorageClasses as its ServiceAccount.
    expect((await fetch(`${lpp.health}/ready`)).status, lpp.program.tail()).toBe(200);
    const ns = 'volume-test';
    await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await plane.client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    await plane.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db', namespace: ns },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'db', image: 'example/db:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      },
    });
    const bound = await plane.client.waitFor('the claim to be bound', async () => {
      const claim = await get('v1', 'PersistentVolumeClaim', 'data', ns);
      return (claim?.status as { phase?: string } | undefined)?.phase === 'Bound' ? claim : undefined;
    }, 60_000);
    const pv = (await get('v1', 'PersistentVolume', (bound.spec as { volumeName: string }).volumeName))!;
    // The node the scheduler chose for the pod, which the provisioner created the volume on.
    const node = bound.metadata.annotations!['volume.kubernetes.io/selected-node']!;
    const path = (pv.spec as { hostPath: { path: string } }).hostPath.path;
    expect(path).toMatch(/^\/var\/mnt\/local-path-provisioner\/pvc-.*_volume-test_data$/);
    const folder = join(runner.nodeRoot(node), path);
    expect(statSync(folder).mode & 0o777).toBe(0o777);
    // What a database leaves behind: a private folder of its own user's.
    mkdirSync(join(folder, 'pgdata'), { mode: 0o700 });
    writeFileSync(join(folder, 'pgdata', 'PG_VERSION'), '17\n');
    for (const f of ['pgdata', 'pgdata/PG_VERSION']) chownSync(join(folder, f), 999, 999);
    await plane.client.delete('v1', 'Pod', 'db', ns);
    await plane.client.delete('v1', 'PersistentVolumeClaim', 'data', ns);
    await plane.client.waitFor('the volume to be deleted', async () => ((await get('v1', 'PersistentVolume', pv.metadata.name)) ? undefined : true), 60_000);
    expect(existsSync(folder)).toBe(false);
    await runner.settled();
    const helpers = runner.runs.filter((r) => r.pod.startsWith('local-path-storage/helper-pod-'));
    expect(helpers.map((r) => [r.phase, r.containers[0]?.env.VOL_DIR])).toEqual(expect.arrayContaining([['Succeeded', path]]));
    expect(helpers.every((r) => r.phase === 'Succeeded'), JSON.stringify(helpers)).toBe(true);
  }, 180_000);

  it('metrics-server\'s real program, as its ServiceAccount, scrapes every kubelet over verified TLS and serves the metrics API through the aggregator', async () => {
    const metrics = await metricsServer;
    expect(metrics.argv).toEqual(expect.arrayContaining(['--secure-port=10250', '--kubelet-use-node-status-port']));
    expect(metrics.argv.join(' ')).not.toContain('insecure');
    const available = await plane.client.waitFor('the metrics APIService to be Available', async () => {
      const service = await get('apiregistration.k8s.io/v1', 'APIService', 'v1beta1.metrics.k8s.io');
      return ((service?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).find((c) => c.type === 'Available' && c.status === 'True');
    }, 60_000);
    expect(available).toBeDefined();
    // kubectl top goes through the API server's aggregator to metrics-server, which authorizes the admin by a
    // SubjectAccessReview (its auth-delegator binding) and answers from what it scraped.
    const top = plane.kubectl(['top', 'nodes', '--no-headers']);
    expect(top.status, top.stderr).toBe(0);
    const rows = Object.fromEntries(top.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/)).map(([node, cpu, , memory]) => [node, [cpu, memory]]));
    expect(rows).toEqual({ 'cp-1': [expect.stringMatching(/^(19\d|20\d)m$/), '512Mi'], 'w-1': [expect.stringMatching(/^(29\d|30\d)m$/), '768Mi'], 'w-2': [expect.stringMatching(/^(39\d|40\d)m$/), '1024Mi'] });
    const pods = plane.kubectl(['top', 'pods', '-n', 'traefik', '--no-headers']);
    expect(pods.stdout, pods.stderr).toMatch(/^traefik-\S+\s+\d+m\s+8Mi/m);
    // Every scrape was metrics-server's own identity, authorized for nodes/metrics.
    // (The API server also asks the kubelets for local-path's helper logs; the stand-ins serve metrics only.)
    const requests = (await kubelets).flatMap((k) => k.requests).filter((r) => r.path === '/metrics/resource');
    expect(requests.length).toBeGreaterThanOrEqual(NODES.length * 2);
    expect(new Set(requests.map((r) => `${r.user} ${r.status}`))).toEqual(new Set(['system:serviceaccount:metrics-server:metrics-server 200']));
  }, 120_000);

  it('the serving-certificate approver\'s ServiceAccount may approve kubelet serving certificates, which the controller-manager signs, and no other kind', async () => {
    for (const kubelet of await kubelets) expect(kubelet.url.startsWith(`https://${address}:`)).toBe(true);
    const requests = (await plane.client.list('certificates.k8s.io/v1', 'CertificateSigningRequest')).filter((csr) => (csr.spec as { signerName: string }).signerName === 'kubernetes.io/kubelet-serving');
    expect(requests.map((csr) => (csr.spec as { username: string }).username).sort()).toEqual(NODES.map((n) => `system:node:${n}`));
    for (const csr of requests) expect((csr.status as { certificate?: string }).certificate).toBeTruthy();
    // A node asking for a client certificate: the approver's RBAC names only the kubelet-serving signer.
    const { name } = await requestNodeCertificate(plane, 'w-1', address!, 'kubernetes.io/kube-apiserver-client');
    const refused = await approveCertificateRequest(await approverClient(), name, 'KubeletServingCertApproverTest');
    expect(refused.status, refused.body).toBe(403);
    expect(refused.body).toContain('kubernetes.io/kube-apiserver-client');
  }, 60_000);

  it('live verify reports drift: a missing object, and a field another tool took over', async () => {
    await plane.client.mergePatch('apps/v1', 'Deployment', 'traefik', 'traefik', { spec: { replicas: 4 } }, 'kubectl-edit');
    await plane.client.delete('networking.k8s.io/v1', 'NetworkPolicy', 'allow-dns', 'traefik');
    const result = await run(verify, ['--cluster=lab'], { GROUNDWORK_LIVE: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('lab: NetworkPolicy traefik/allow-dns: missing');
    expect(result.stderr).toContain('lab: Deployment traefik/traefik: fields are owned by another field manager: conflict with "kubectl-edit" using apps/v1 .spec.replicas');
  }, 120_000);

  it('apply restores what drifted, taking contested fields back only with --force-conflicts', async () => {
    const refused = await run(apply, ['--cluster=lab']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('  - "kubectl-edit" using apps/v1: .spec.replicas\n');
    const forced = await run(apply, ['--cluster=lab', '--force-conflicts']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(((await get('apps/v1', 'Deployment', 'traefik', 'traefik'))!.spec as { replicas: number }).replicas).toBe(2);
    expect(await get('networking.k8s.io/v1', 'NetworkPolicy', 'allow-dns', 'traefik')).toBeDefined();
  }, 120_000);

  it('dry-run prints a diff with the Secret masked and changes nothing', async () => {
    const valueFile = join(scratchDir('gw-value-'), 'token');
    writeFileSync(valueFile, `${token}-rotated`);
    expect((await run(secrets, ['set', '--cluster=lab', 'cloudflared/cloudflared-tunnel', 'token', `--value-file=${valueFile}`])).code).toBe(0);
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const { result, writes } = await writesDuring(() => run(apply, ['--cluster=lab'], { GROUNDWORK_DRY_RUN: '1' }));
    expect(result.code, result.stderr).toBe(0);
    expect(writes).toEqual([]);
    expect(result.stdout).toContain('+++ desired/Secret cloudflared/cloudflared-tunnel');
    expect(result.stdout).toContain('***(changed)***');
    expect(result.stdout).not.toContain(token);
    expect(result.stderr).toContain('lab: 1 to change');
    // Every status line says it was a dry run.
    const lines = result.stderr.split('\n').filter((l) => l.includes('[platform-core:apply'));
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toContain('[platform-core:apply, dry run]');
  });

  it('refuses to apply to an API server that belongs to another cluster', async () => {
    await plane.client.mergePatch('v1', 'ConfigMap', 'groundwork-cluster', 'kube-system', { data: { cluster: 'prod' } }, 'someone');
    const result = await run(apply, ['--cluster=lab']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('belongs to cluster "prod"');
  });
});

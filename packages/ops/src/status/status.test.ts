import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupPlan, loadCluster, type LoadedCluster } from '@groundwork/cluster';
import { APPLYSET, LABELS, MANAGED_BY, applySetFor } from '@groundwork/kube';
import { loadTalosSecrets } from '@groundwork/talos-config';
import { main as generateTalos } from '@groundwork/talos-config/generate';
import { FakeTalosNode, memberId, sharedState } from '@groundwork/talos-config/test/fake-talos';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { programPath } from '@groundwork/testkit/programs';
import { freePort } from '@groundwork/testkit/services';
import { TestClient, advertiseAddress, approveCertificateRequest, certificateRequest, issueLeaf, startClusterControlPlane, startProgram, statusOf, waitUntil, type ClusterControlPlane, type KubeObject, type Program } from '@groundwork/testkit/kube';
import { main as gwStatus } from '../status-cli.ts';
import type { ClusterStatus } from './types.ts';

/**
 * gw-status against pi-fleet's own control plane (the real kube-apiserver, controller-manager and scheduler
 * started from its rendered Talos config, kwok Raspberry Pis), Talos API stand-ins for its four nodes, and the
 * real Alertmanager reached through the API server's service proxy. Each fault is made the way it happens on a
 * cluster: through the API, as the kubelet, the controllers or the CSR approver would write it.
 */

const repo = join(import.meta.dirname, '..', '..', '..', '..');
const CLUSTER = 'pi-fleet';
/** The Alertmanager stand-in pod: kwok leaves it alone, the test writes its status as its kubelet would. */
const AM_POD = 'alertmanager-0';

describe('gw-status on a live cluster', () => {
  let ws: ScratchWorkspace;
  let cluster: LoadedCluster;
  let plane: ClusterControlPlane;
  let alertmanager: Program;
  let amUrl = '';
  let env: NodeJS.ProcessEnv;
  const talos = new Map<string, FakeTalosNode>();
  const client = () => plane.client;

  const status = async (): Promise<{ code: number; json: ClusterStatus; screen: string }> => {
    const json = await runIn(ws.root, gwStatus, [`--cluster=${CLUSTER}`, '--json'], env);
    const screen = await runIn(ws.root, gwStatus, [`--cluster=${CLUSTER}`], env);
    expect(json.code).toBe(screen.code);
    return { code: json.code, json: JSON.parse(json.stdout) as ClusterStatus, screen: screen.stdout };
  };

  /** What a layer's apply stamps on its objects: groundwork's labels and the layer's ApplySet id. */
  const layerLabels = (layer: string) => ({ [LABELS.managedBy]: MANAGED_BY, [LABELS.layer]: layer, [LABELS.cluster]: CLUSTER, [APPLYSET.partOf]: applySetFor(layer).id });

  const deployment = (namespace: string, name: string, replicas: number, labels: Record<string, string>, nodeSelector?: Record<string, string>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(nodeSelector ? { nodeSelector } : {}),
          // Off pi-w-3, which a test takes down: its pods would turn unready with it and blur what each test shows.
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['pi-w-3'] }] }] } } },
          securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{ name, image: `stand-in/${name}`, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
        },
      },
    },
  });

  const available = (namespace: string, name: string, replicas: number) =>
    client().waitFor(`${namespace}/${name} to have ${replicas} available`, async () => (((await client().get('apps/v1', 'Deployment', name, namespace))?.status as { availableReplicas?: number } | undefined)?.availableReplicas === replicas ? true : undefined));

  /** A kubelet-serving request sent as the node, approved, and signed by the real controller-manager. */
  async function kubeletCertificate(node: string, expirationSeconds?: number): Promise<string> {
    const identity = issueLeaf(plane.spec.ca, { commonName: `system:node:${node}`, organizations: ['system:nodes'], usages: ['clientAuth'] });
    const asNode = new TestClient({ server: plane.url, ca: plane.spec.ca.crt, cert: identity.crt, key: identity.key });
    const { csr } = certificateRequest({ commonName: `system:node:${node}`, organizations: ['system:nodes'], dnsNames: [node], ips: [cluster.config.nodes.find((n) => n.name === node)!.ip] });
    const created = await asNode.create({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'csr-' } as unknown as KubeObject['metadata'],
      spec: { request: Buffer.from(csr).toString('base64'), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'], ...(expirationSeconds ? { expirationSeconds } : {}) },
    });
    expect((await approveCertificateRequest(client(), created.metadata.name, 'test-approver')).status).toBe(200);
    return client().waitFor(`${created.metadata.name} to be signed`, async () => ((await client().get('certificates.k8s.io/v1', 'CertificateSigningRequest', created.metadata.name))?.status as { certificate?: string } | undefined)?.certificate);
  }

  beforeAll(async () => {
    ws = scratchWorkspace({});
    cpSync(join(repo, 'clusters', CLUSTER), join(ws.root, 'clusters', CLUSTER), { recursive: true, filter: (src) => !src.includes('/rendered') });
    cpSync(join(repo, '.sops.yaml'), join(ws.root, '.sops.yaml'));
    const rendered = await runIn(ws.root, generateTalos, [`--cluster=${CLUSTER}`]);
    expect(rendered.code, rendered.stderr).toBe(0);
    cluster = loadCluster(ws.root, CLUSTER);
    plane = await startClusterControlPlane(ws.root, cluster, { kwok: { leavePods: [{ cel: { expression: `self.metadata.name != '${AM_POD}'` } }] } });
    ws.useKubeconfig(CLUSTER, plane.kubeconfig());

    // The Talos side: every node answers with the admin talosconfig's CA; pi-cp-1 is etcd's only member.
    const secrets = await loadTalosSecrets(ws.root, cluster);
    if ('problem' in secrets) throw new Error(secrets.problem);
    const state = sharedState();
    state.etcdMembers = ['pi-cp-1'];
    memberId(state, 'pi-cp-1');
    for (const n of cluster.config.nodes) {
      const fake = new FakeTalosNode({ name: n.name, ip: n.ip, controlPlane: n.role === 'controlplane', talosVersion: 'v1.13.9' }, secrets.bundle, state, () => '', 'configured');
      await fake.start();
      talos.set(n.name, fake);
    }
    const addressMap = cluster.config.nodes.map((n) => `${n.ip}:50000=127.0.0.1:${talos.get(n.name)!.port}`).join(',');
    env = isolatedEnv(scratchDir('gw-status-home-'), { GROUNDWORK_ADDRESS_MAP: addressMap, GROUNDWORK_TALOS_PROBE_TIMEOUT_MS: '4000' });

    // The real Alertmanager, on this machine's own address: the API server's proxy dials pod IPs, never loopback.
    const address = advertiseAddress();
    if (!address) throw new Error('this machine has no non-loopback IPv4 address for the Alertmanager pod');
    const dir = scratchDir('gw-status-am-');
    writeFileSync(join(dir, 'alertmanager.yml'), 'route: { receiver: none }\nreceivers: [{ name: none }]\n');
    mkdirSync(join(dir, 'data'));
    const amPort = await freePort();
    amUrl = `http://${address}:${amPort}/api/v2`;
    alertmanager = startProgram('alertmanager', programPath('alertmanager'), [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=${address}:${amPort}`, '--cluster.listen-address='], join(dir, 'alertmanager.log'));
    await waitUntil('Alertmanager to start', alertmanager, 30_000, async () => (await statusOf(`${amUrl}/status`)) === 200, 250);

    for (const ns of ['n8n', 'observability', 'dr']) await client().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const amLabels = { 'app.kubernetes.io/name': 'alertmanager', ...layerLabels('observability') };
    await client().create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'alertmanager', namespace: 'observability', labels: amLabels }, spec: { selector: { 'app.kubernetes.io/name': 'alertmanager' }, ports: [{ name: 'http', port: 9093, targetPort: amPort }] } });
    await client().create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: AM_POD, namespace: 'observability', labels: { 'app.kubernetes.io/name': 'alertmanager' } },
      spec: { nodeName: 'pi-cp-1', securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'alertmanager', image: 'stand-in/alertmanager', ports: [{ containerPort: amPort }], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] },
    });
    const at = new Date().toISOString();
    await client().setStatus('v1', 'Pod', AM_POD, 'observability', { phase: 'Running', podIP: address, podIPs: [{ ip: address }], startTime: at, conditions: ['Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: at })) }, 'kubelet');
    // The real endpoints controller publishes the ready pod; the proxy only dials addresses that are pods' IPs.
    await client().waitFor('alertmanager endpoints', async () => ((await client().get('v1', 'Endpoints', 'alertmanager', 'observability'))?.subsets as unknown[] | undefined)?.length ? true : undefined);

    // Workloads of two layers, and one that no layer applied (not groundwork's: never shown).
    await client().create(deployment('n8n', 'n8n', 1, layerLabels('n8n')));
    await client().create(deployment('n8n', 'n8n-worker', 2, layerLabels('n8n')));
    await client().create(deployment('observability', 'grafana', 1, layerLabels('observability')));
    await client().create(deployment('kube-system', 'someone-elses', 1, { app: 'someone-elses' }));
    for (const [ns, name, replicas] of [['n8n', 'n8n', 1], ['n8n', 'n8n-worker', 2], ['observability', 'grafana', 1]] as const) await available(ns, name, replicas);

    // The dr layer's CronJobs, each last successful an hour ago (an app volume's in the app's namespace).
    for (const plan of backupPlan(cluster.config)) {
      const { namespace } = plan;
      if (!(await client().get('v1', 'Namespace', namespace))) await client().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      await client().create({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: plan.job, namespace, labels: layerLabels('dr') }, spec: { schedule: plan.schedule, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'backup', image: 'stand-in/backup' }] } } } } } });
      await client().setStatus('batch/v1', 'CronJob', plan.job, namespace, { lastSuccessfulTime: new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z') });
    }
    // pi-w-1 has rotated its serving certificate: the real signer issues it for a year.
    await kubeletCertificate('pi-w-1');
  }, 600_000);

  afterAll(async () => {
    for (const node of talos.values()) await node.stop();
    await alertmanager?.stop();
    await plane?.stop();
  });

  it('shows a healthy cluster and exits 0', async () => {
    const { code, json, screen } = await status();
    expect(json.verdict).toBe('healthy');
    expect(code).toBe(0);
    expect(json.nodes.nodes.map((n) => [n.name, n.talos.version, n.kubernetes.version, n.kubernetes.ready])).toEqual([
      ['pi-cp-1', 'v1.13.9', 'v1.36.3', true],
      ['pi-w-1', 'v1.13.9', 'v1.36.3', true],
      ['pi-w-2', 'v1.13.9', 'v1.36.3', true],
      ['pi-w-3', 'v1.13.9', 'v1.36.3', true],
    ]);
    expect(json.etcd).toMatchObject({ verdict: 'healthy', leader: 'pi-cp-1', members: [{ hostname: 'pi-cp-1', leader: true, isLearner: false }] });
    expect(json.workloads.layers.map((l) => [l.layer, l.workloads.map((w) => `${w.namespace}/${w.name} ${w.ready}/${w.desired}`)])).toEqual([
      ['n8n', ['n8n/n8n 1/1', 'n8n/n8n-worker 2/2']],
      ['observability', ['observability/grafana 1/1']],
    ]);
    expect(json.backups.backups.map((b) => [b.cronJob, b.verdict, b.ageSeconds! >= 3600 && b.ageSeconds! < 3700])).toEqual([['etcd-snapshot', 'healthy', true], ['postgres-backup', 'healthy', true], ['n8n-export', 'healthy', true], ['rss-db-backup', 'healthy', true], ['vault-data-backup', 'healthy', true]]);
    const certs = Object.fromEntries(json.certificates.certificates.map((c) => [c.name, c.state]));
    expect(certs).toEqual({ 'talosconfig admin client': 'ok', 'Talos OS CA': 'ok', 'Kubernetes CA': 'ok', 'etcd CA': 'ok', 'aggregator CA': 'ok', 'kubelet serving pi-cp-1': 'none-issued', 'kubelet serving pi-w-1': 'ok', 'kubelet serving pi-w-2': 'none-issued', 'kubelet serving pi-w-3': 'none-issued' });
    expect(json.certificates.certificates.find((c) => c.name === 'kubelet serving pi-w-1')!.daysLeft).toBeGreaterThan(300);
    expect(json.alerts).toEqual({ verdict: 'healthy', source: 'observability/alertmanager:9093', problems: [], alerts: [] });
    expect(json.collectedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(screen).toMatch(/^pi-fleet: ok \(exit 0, /);
    expect(screen).toMatch(/✓ +pi-w-1 +192\.168\.1\.22 +worker +talos v1\.13\.9 +kubelet v1\.36\.3 +Ready/);
    expect(screen).toContain('etcd [ok] leader pi-cp-1, 1 member(s)');
    expect(screen).toContain('n8n: 2/2 workloads ready');
    expect(screen).not.toContain('someone-elses');
    expect(screen).toContain('Alerts [ok] from observability/alertmanager:9093: 0 firing');
  });

  it('marks a node that is not Ready, and exits 1', async () => {
    // pi-w-3's kubelet stops: kwok no longer plays it, and its last status says NotReady.
    await client().mergePatch('v1', 'Node', 'pi-w-3', undefined, { metadata: { annotations: { 'kwok.x-k8s.io/node': null } } }, 'test-harness');
    const at = new Date().toISOString();
    await client().setStatus('v1', 'Node', 'pi-w-3', undefined, { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down', lastHeartbeatTime: at, lastTransitionTime: at }] }, 'kubelet');
    const { code, json, screen } = await status();
    expect(code).toBe(1);
    expect(json.verdict).toBe('unhealthy');
    const node = json.nodes.nodes.find((n) => n.name === 'pi-w-3')!;
    expect(node.kubernetes.ready).toBe(false);
    expect(['KubeletNotReady', 'NodeStatusUnknown']).toContain(node.kubernetes.reason);
    expect(json.nodes.problems).toEqual([expect.stringMatching(/^pi-w-3: not Ready \((KubeletNotReady|NodeStatusUnknown)\)$/)]);
    expect(screen).toMatch(/✗ +pi-w-3 .* NotReady \((KubeletNotReady|NodeStatusUnknown)\)/);
    expect(screen).toContain('Nodes [UNHEALTHY]');
  });

  it('names a Deployment with unavailable replicas under its layer', async () => {
    // No node carries this label: the scheduler cannot place the pod, so the Deployment stays at 0/1.
    await client().create(deployment('n8n', 'n8n-webhook', 1, layerLabels('n8n'), { 'groundwork.dev/nowhere': 'true' }));
    const { code, json, screen } = await status();
    expect(code).toBe(1);
    const n8n = json.workloads.layers.find((l) => l.layer === 'n8n')!;
    expect(n8n.verdict).toBe('unhealthy');
    expect(n8n.workloads.find((w) => w.name === 'n8n-webhook')).toMatchObject({ kind: 'Deployment', desired: 1, ready: 0, healthy: false });
    expect(json.workloads.layers.find((l) => l.layer === 'observability')!.verdict).toBe('healthy');
    expect(json.workloads.problems).toEqual([expect.stringMatching(/^n8n: Deployment n8n\/n8n-webhook 0\/1 ready \(0\/1 available/)]);
    expect(screen).toMatch(/n8n: 2\/3 workloads ready\n +✗ +Deployment +n8n\/n8n-webhook +0\/1/);
  });

  it('calls a backup stale when its newest success is older than two missed runs', async () => {
    const plan = backupPlan(cluster.config).find((p) => p.kind === 'postgres')!;
    const old = new Date(Date.now() - plan.allowedAgeSeconds * 1000 - 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await client().setStatus('batch/v1', 'CronJob', plan.job, 'dr', { lastSuccessfulTime: old });
    const { code, json, screen } = await status();
    expect(code).toBe(1);
    const backup = json.backups.backups.find((b) => b.cronJob === plan.job)!;
    expect(backup).toMatchObject({ verdict: 'unhealthy', lastSuccessfulTime: new Date(old).toISOString(), schedule: plan.schedule });
    expect(backup.ageSeconds).toBeGreaterThan(plan.allowedAgeSeconds);
    expect(json.backups.problems).toEqual([expect.stringMatching(/^postgres-backup: the newest successful postgres backup is \d+d old \(allowed \d+[hd] for ".+"\)$/)]);
    expect(json.backups.backups.filter((b) => b.verdict === 'healthy').map((b) => b.cronJob)).toEqual(['etcd-snapshot', 'n8n-export', 'rss-db-backup', 'vault-data-backup']);
    expect(screen).toContain('Backups [UNHEALTHY]');
  });

  it('warns about a kubelet serving certificate about to expire', async () => {
    // The shortest a signer may be asked for (10 minutes): the real controller-manager signs it for that long.
    const pem = await kubeletCertificate('pi-w-2', 600);
    const { code, json, screen } = await status();
    expect(code).toBe(1);
    const cert = json.certificates.certificates.find((c) => c.name === 'kubelet serving pi-w-2')!;
    expect(cert).toMatchObject({ state: 'expiring', daysLeft: 0, warnDays: 30 });
    expect(Date.parse(cert.notAfter!) - Date.now()).toBeLessThan(11 * 60_000);
    expect(Buffer.from(pem, 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(json.certificates.problems).toEqual([expect.stringMatching(/^kubelet serving pi-w-2 expires on \S+ \(0 days left, warned below 30\)$/)]);
    expect(screen).toMatch(/✗ +kubelet serving pi-w-2 +until \d{4}-\d\d-\d\d +0 days left/);
  });

  it('lists the alerts firing in the real Alertmanager, not the Watchdog heartbeat', async () => {
    const sent = await fetch(`${amUrl}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels: { alertname: 'Watchdog', severity: 'none' }, annotations: { summary: 'alerting works' } },
        { labels: { alertname: 'BackupTooOld', severity: 'critical', cronjob: 'postgres-backup' }, annotations: { summary: 'the newest postgres backup is too old' } },
      ]),
    });
    expect(sent.ok).toBe(true);
    const { code, json, screen } = await status();
    expect(code).toBe(1);
    expect(json.alerts.verdict).toBe('unhealthy');
    expect(json.alerts.alerts.map((a) => [a.name, a.severity, a.summary, a.labels.cronjob])).toEqual([['BackupTooOld', 'critical', 'the newest postgres backup is too old', 'postgres-backup']]);
    expect(screen).toMatch(/Alerts \[UNHEALTHY\] from observability\/alertmanager:9093: 1 firing\n +✗ +BackupTooOld +critical +since \S+ +the newest postgres backup is too old/);
  });

  it('keeps showing the rest when a Talos node and Alertmanager stop answering', async () => {
    await talos.get('pi-w-1')!.stop();
    await alertmanager.stop();
    const { code, json, screen } = await status();
    expect(code).toBe(1);
    const node = json.nodes.nodes.find((n) => n.name === 'pi-w-1')!;
    expect(node.talos.reachable).toBe(false);
    expect(node.kubernetes.ready).toBe(true);
    expect(json.nodes.problems).toContain(`pi-w-1: Talos API unreachable: ${node.talos.error}`);
    expect(json.alerts.verdict).toBe('unknown');
    expect(json.alerts.problems).toEqual([expect.stringMatching(/^Alertmanager did not answer/)]);
    expect(json.etcd.verdict).toBe('healthy');
    expect(json.workloads.layers.length).toBe(2);
    expect(screen).toMatch(/✗ +pi-w-1 .* talos unreachable/);
  });

  it('exits 5 when the Kubernetes API does not answer, still showing what Talos says', async () => {
    ws.useKubeconfig(CLUSTER, plane.kubeconfig(`https://127.0.0.1:${await freePort()}`));
    try {
      const { code, json, screen } = await status();
      expect(code).toBe(5);
      expect(json.verdict).toBe('unreachable');
      expect(json.reachable.kubernetes).toBe(false);
      expect(json.reachable.talos).toBe(true);
      expect(json.etcd.leader).toBe('pi-cp-1');
      expect(json.nodes.nodes.find((n) => n.name === 'pi-cp-1')!.talos.version).toBe('v1.13.9');
      for (const section of [json.workloads, json.backups, json.alerts]) expect(section.verdict).toBe('unknown');
      expect(screen).toMatch(/^pi-fleet: UNREACHABLE \(exit 5, /);
    } finally {
      ws.useKubeconfig(CLUSTER, plane.kubeconfig());
    }
  });

  it('needs --cluster, and with * prints an array', async () => {
    expect((await runIn(ws.root, gwStatus, [], env)).code).toBe(2);
    const all = await runIn(ws.root, gwStatus, ['--cluster=*', '--json'], env);
    const parsed = JSON.parse(all.stdout) as ClusterStatus[];
    expect(parsed.map((s) => s.cluster)).toEqual([CLUSTER]);
    expect(all.code).toBe(parsed[0]!.exitCode);
  });
});

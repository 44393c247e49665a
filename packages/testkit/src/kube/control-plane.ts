import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { scratchDir } from '../workspace.ts';
import { freePort } from '../services.ts';
import { kubernetesProgram, programPath, type KubernetesComponent } from '../programs.ts';
import { TestClient, type Credentials } from './client.ts';
import { kubeconfigText, writeControlPlaneFiles, type ControlPlaneFiles } from './files.ts';
import { startProgram, statusOf, waitUntil, type Program } from './process.ts';
import { API_SERVER_POLICIES, CONTROLLER_MANAGER_POLICIES, SCHEDULER_POLICIES, TLS_CIPHER_SUITES, mergeArgs, toArgv, type Args } from './talos-args.ts';
import type { ControlPlaneSpec } from './talos-spec.ts';
import type { KeyPair } from './pki.ts';
import { startKwok, type KwokOptions } from './kwok.ts';
import { readAudit, type AuditEvent } from './audit.ts';

/**
 * A real Kubernetes control plane for tests, started the way Talos starts it on a control-plane node: etcd with
 * mutual TLS, kube-apiserver, kube-controller-manager and kube-scheduler with Talos's flags and files, from the
 * cluster's own CAs, keys and `cluster:` settings. Only the addresses change (loopback and free ports) and the
 * file locations (a test folder). kwok plays the kubelets of the cluster file's nodes.
 */

export interface StartOptions {
  spec: ControlPlaneSpec;
  /** The folder for its files, logs and data (default: a new scratch folder). */
  dir?: string;
  /** kwok for simulated nodes (default on); `false` for an API server with controllers only. */
  kwok?: KwokOptions | false;
  /** The API server's port, when a test must know it before the server starts (default: a free one). */
  apiPort?: number;
  /**
   * The aggregator calls an APIService's endpoints (pod addresses) instead of its Service's cluster IP. On a
   * cluster Cilium's socket load balancing carries the cluster IP to a pod; nothing does here, so a test that
   * needs an aggregated API (metrics-server) turns this on.
   */
  aggregatorRouting?: boolean;
}

export interface ControlPlane {
  spec: ControlPlaneSpec;
  /** https://127.0.0.1:<port> */
  url: string;
  dir: string;
  /** The admin's credentials (CN admin, O system:masters), as `talosctl kubeconfig` issues them. */
  admin: Credentials & { cert: string; key: string };
  /** etcd's client URL and the API server's client certificate for it (tests read what etcd stores). */
  etcd: { url: string; ca: string; cert: string; key: string };
  /** Where etcd (plain HTTP), the controller-manager and the scheduler (HTTPS, token) serve their metrics. */
  metrics: { etcd: string; controllerManager: string; scheduler: string };
  /** The aggregation layer's client certificate (CN front-proxy-client, from the aggregator CA), for ApiFront. */
  frontProxyClient: KeyPair;
  /** A kubeconfig for the admin, naming `server` (default: this API server's loopback URL). */
  kubeconfig(server?: string): string;
  /** A client for the tests themselves (seeding, reading back) as user test-harness, independent of the code under test. */
  client: TestClient;
  programs: Program[];
  /**
   * Stops one control-plane component and starts it again at `version` with the same flags, as a kubelet does when
   * a static pod's image changes; resolves once it serves again (the API server's /readyz, the others' /healthz).
   */
  restart(component: KubernetesComponent, version: string): Promise<void>;
  /** The Kubernetes version each control-plane component runs now. */
  versions: Record<KubernetesComponent, string>;
  /** Runs the pinned kubectl as the test harness (not as the code under test), e.g. to act as another field manager. */
  kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string };
  /** How long etcd, the API server, the controllers and kwok took to be ready. */
  startupMs: number;
  /** The API server's audit log so far (the cluster's audit policy decides what is in it). */
  audit(): AuditEvent[];
  stop(): Promise<void>;
}

/** This machine's first non-loopback IPv4 address: Talos advertises the node's address; loopback is not accepted. */
export function advertiseAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/**
 * Ports are picked free and bound a moment later by the programs; with several control planes starting at once
 * (vitest runs files in parallel) another one may take a port in between. Such a start is retried on new ports,
 * in a new folder; any other failure is not.
 */
export async function startControlPlane(options: StartOptions): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(attempt === 1 ? options : { ...options, dir: undefined });
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(options: StartOptions): Promise<ControlPlane> {
  const { spec } = options;
  // Fails early when the tests' binaries are not the Kubernetes version the cluster's control-plane images pin.
  const binary = (component: KubernetesComponent) => kubernetesProgram(component, spec.kubernetesVersion);
  for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) binary(component);
  const versions: Record<KubernetesComponent, string> = { 'kube-apiserver': spec.kubernetesVersion, 'kube-controller-manager': spec.kubernetesVersion, 'kube-scheduler': spec.kubernetesVersion };
  const argvs = new Map<KubernetesComponent, string[]>();
  const started = performance.now();
  const dir = options.dir ?? scratchDir(`gw-cp-${spec.clusterName}-`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const [etcdClient, etcdPeer, etcdMetrics, freeApiPort, cmPort, schedulerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const apiPort = options.apiPort ?? freeApiPort;
  const url = `https://127.0.0.1:${apiPort}`;
  const files: ControlPlaneFiles = writeControlPlaneFiles(dir, spec, url);
  const { secrets, config } = files;
  const admin: ControlPlane['admin'] = { server: url, ca: spec.ca.crt, cert: files.admin.crt, key: files.admin.key };
  const programs: Program[] = [];
  const stopAll = async () => {
    for (const program of [...programs].reverse()) await program.stop();
  };

  try {
    // etcd as Talos runs it (internal/app/machined/pkg/system/services/etcd.go), on loopback.
    const etcdUrl = `https://127.0.0.1:${etcdClient}`;
    const etcdArgs: Args = {
      ...Object.fromEntries(Object.entries(spec.etcdArgs).filter(([flag]) => !flag.startsWith('listen-'))),
      'advertise-client-urls': etcdUrl,
      'auto-tls': 'false',
      'cert-file': secrets('etcd', 'server.crt'),
      'client-cert-auth': 'true',
      'data-dir': join(dir, 'etcd'),
      'experimental-compact-hash-check-enabled': 'true',
      'experimental-initial-corrupt-check': 'true',
      'experimental-watch-progress-notify-interval': '5s',
      'initial-advertise-peer-urls': `https://127.0.0.1:${etcdPeer}`,
      'initial-cluster': `${spec.clusterName}=https://127.0.0.1:${etcdPeer}`,
      'initial-cluster-state': 'new',
      'key-file': secrets('etcd', 'server.key'),
      'listen-client-urls': etcdUrl,
      // Plain HTTP metrics, as talos-config asks for them (on :2381) when the cluster scrapes its control plane.
      'listen-metrics-urls': `http://127.0.0.1:${etcdMetrics}`,
      'listen-peer-urls': `https://127.0.0.1:${etcdPeer}`,
      name: spec.clusterName,
      'peer-auto-tls': 'false',
      'peer-cert-file': secrets('etcd', 'peer.crt'),
      'peer-client-cert-auth': 'true',
      'peer-key-file': secrets('etcd', 'peer.key'),
      'peer-trusted-ca-file': secrets('etcd', 'ca.crt'),
      'trusted-ca-file': secrets('etcd', 'ca.crt'),
      // Not Talos's: a test's etcd need not survive a power cut, and fsync dominates its start on slow disks.
      'unsafe-no-fsync': 'true',
    };
    const etcd = startProgram('etcd', programPath('etcd'), toArgv(etcdArgs), join(dir, 'logs', 'etcd.log'));
    programs.push(etcd);
    const etcdCredentials = { ca: spec.etcdCa.crt, cert: readFileSync(secrets('kube-apiserver', 'etcd-client.crt'), 'utf8'), key: readFileSync(secrets('kube-apiserver', 'etcd-client.key'), 'utf8') };
    await waitUntil('etcd to be healthy', etcd, 30_000, async () => (await statusOf(`${etcdUrl}/health`, etcdCredentials)) === 200);

    const S = (file: string) => secrets('kube-apiserver', file);
    const C = (file: string) => config('kube-apiserver', file);
    const address = advertiseAddress();
    const apiArgs = mergeArgs(
      {
        'admission-control-config-file': C('admission-control-config.yaml'),
        ...(address ? { 'advertise-address': address } : {}),
        'allow-privileged': 'true',
        'anonymous-auth': 'false',
        'api-audiences': spec.endpoint,
        'audit-log-maxage': '30',
        'audit-log-maxbackup': '10',
        'audit-log-maxsize': '100',
        'audit-log-path': join(dir, 'audit', 'kube-apiserver.log'),
        'audit-policy-file': C('auditpolicy.yaml'),
        'authorization-config': C('authorization-config.yaml'),
        'bind-address': '127.0.0.1',
        'client-ca-file': S('ca.crt'),
        'enable-admission-plugins': 'NodeRestriction',
        ...(options.aggregatorRouting ? { 'enable-aggregator-routing': 'true' } : {}),
        'enable-bootstrap-token-auth': 'true',
        'encryption-provider-config': S('encryptionconfig.yaml'),
        'etcd-cafile': S('etcd-client-ca.crt'),
        'etcd-certfile': S('etcd-client.crt'),
        'etcd-keyfile': S('etcd-client.key'),
        'etcd-servers': etcdUrl,
        'kubelet-client-certificate': S('apiserver-kubelet-client.crt'),
        'kubelet-client-key': S('apiserver-kubelet-client.key'),
        'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
        profiling: 'false',
        'proxy-client-cert-file': S('front-proxy-client.crt'),
        'proxy-client-key-file': S('front-proxy-client.key'),
        'requestheader-allowed-names': 'front-proxy-client',
        'requestheader-client-ca-file': S('aggregator-ca.crt'),
        'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
        'requestheader-group-headers': 'X-Remote-Group',
        'requestheader-username-headers': 'X-Remote-User',
        'secure-port': String(apiPort),
        'service-account-issuer': spec.endpoint,
        'service-account-key-file': S('service-account.pub'),
        'service-account-signing-key-file': S('service-account.key'),
        'service-cluster-ip-range': spec.serviceSubnets.join(','),
        'tls-cert-file': S('apiserver.crt'),
        'tls-cipher-suites': TLS_CIPHER_SUITES,
        'tls-min-version': 'VersionTLS12',
        'tls-private-key-file': S('apiserver.key'),
      },
      loopback(spec.apiServerArgs),
      API_SERVER_POLICIES,
      `cluster ${spec.clusterName} apiServer`,
    );
    mkdirSync(join(dir, 'audit'), { recursive: true });
    argvs.set('kube-apiserver', toArgv(apiArgs));
    const apiServer = startProgram('kube-apiserver', binary('kube-apiserver'), argvs.get('kube-apiserver')!, join(dir, 'logs', 'kube-apiserver.log'));
    programs.push(apiServer);
    await waitUntil('kube-apiserver to be ready', apiServer, 90_000, async () => (await statusOf(`${url}/readyz`, admin)) === 200);

    const M = (file: string) => secrets('kube-controller-manager', file);
    const cmArgs = mergeArgs(
      {
        'allocate-node-cidrs': 'true',
        'authentication-kubeconfig': M('kubeconfig'),
        'authorization-kubeconfig': M('kubeconfig'),
        'bind-address': '127.0.0.1',
        'cluster-cidr': spec.podSubnets.join(','),
        'cluster-signing-cert-file': M('ca.crt'),
        'cluster-signing-key-file': M('ca.key'),
        'configure-cloud-routes': 'false',
        controllers: '*,tokencleaner',
        kubeconfig: M('kubeconfig'),
        'leader-elect': 'true',
        profiling: 'false',
        'root-ca-file': M('ca.crt'),
        'secure-port': String(cmPort),
        'service-account-private-key-file': M('service-account.key'),
        'service-cluster-ip-range': spec.serviceSubnets.join(','),
        'tls-min-version': 'VersionTLS13',
      },
      loopback(spec.controllerManagerArgs),
      CONTROLLER_MANAGER_POLICIES,
      `cluster ${spec.clusterName} controllerManager`,
    );
    argvs.set('kube-controller-manager', ['--use-service-account-credentials', ...toArgv(cmArgs)]);
    const controllerManager = startProgram('kube-controller-manager', binary('kube-controller-manager'), argvs.get('kube-controller-manager')!, join(dir, 'logs', 'kube-controller-manager.log'));
    programs.push(controllerManager);

    const schedulerArgs = mergeArgs(
      {
        'authentication-kubeconfig': secrets('kube-scheduler', 'kubeconfig'),
        'authentication-tolerate-lookup-failure': 'false',
        'authorization-kubeconfig': secrets('kube-scheduler', 'kubeconfig'),
        'bind-address': '127.0.0.1',
        config: config('kube-scheduler', 'scheduler-config.yaml'),
        'leader-elect': 'true',
        profiling: 'false',
        'secure-port': String(schedulerPort),
        'tls-min-version': 'VersionTLS13',
      },
      loopback(spec.schedulerArgs),
      SCHEDULER_POLICIES,
      `cluster ${spec.clusterName} scheduler`,
    );
    argvs.set('kube-scheduler', toArgv(schedulerArgs));
    const scheduler = startProgram('kube-scheduler', binary('kube-scheduler'), argvs.get('kube-scheduler')!, join(dir, 'logs', 'kube-scheduler.log'));
    programs.push(scheduler);

    const kwokKubeconfig = join(dir, 'kwok.kubeconfig');
    writeFileSync(kwokKubeconfig, kubeconfigText(spec.clusterName, url, spec.ca.crt, files.kwok), { mode: 0o600 });
    if (options.kwok !== false) programs.push(await startKwok(dir, kwokKubeconfig, options.kwok ?? {}));

    const client = new TestClient({ server: url, ca: spec.ca.crt, cert: files.harness.crt, key: files.harness.key });
    const harnessKubeconfig = join(dir, 'harness.kubeconfig');
    writeFileSync(harnessKubeconfig, kubeconfigText(spec.clusterName, url, spec.ca.crt, files.harness), { mode: 0o600 });
    // Each controller holds its leader lease once it runs; the controller-manager has also made the default
    // ServiceAccount, which every pod needs to be admitted.
    for (const [name, program] of [['kube-controller-manager', controllerManager], ['kube-scheduler', scheduler]] as const) {
      await waitUntil(`${name} to take its leader lease`, program, 60_000, async () => !!(await client.get('coordination.k8s.io/v1', 'Lease', name, 'kube-system')));
    }
    await waitUntil('the default ServiceAccount', controllerManager, 60_000, async () => !!(await client.get('v1', 'ServiceAccount', 'default', 'default')));

    return {
      spec,
      url,
      dir,
      admin,
      etcd: { url: etcdUrl, ...etcdCredentials },
      metrics: { etcd: `http://127.0.0.1:${etcdMetrics}/metrics`, controllerManager: `https://127.0.0.1:${cmPort}/metrics`, scheduler: `https://127.0.0.1:${schedulerPort}/metrics` },
      frontProxyClient: { crt: readFileSync(secrets('kube-apiserver', 'front-proxy-client.crt'), 'utf8'), key: readFileSync(secrets('kube-apiserver', 'front-proxy-client.key'), 'utf8') },
      kubeconfig: (server = url) => kubeconfigText(spec.clusterName, server, spec.ca.crt, files.admin),
      client,
      kubectl: (args, input) => {
        const result = spawnSync(programPath('kubectl'), [`--kubeconfig=${harnessKubeconfig}`, ...args], { input, encoding: 'utf8', timeout: 60_000 });
        return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
      },
      programs,
      versions,
      restart: async (component, version) => {
        const index = programs.findIndex((p) => p.name === component);
        const program = kubernetesProgram(component, version);
        await programs[index]!.stop();
        const restarted = startProgram(component, program, argvs.get(component)!, join(dir, 'logs', `${component}-${version}.log`));
        programs[index] = restarted;
        const port = { 'kube-apiserver': apiPort, 'kube-controller-manager': cmPort, 'kube-scheduler': schedulerPort }[component];
        const probe = component === 'kube-apiserver' ? `${url}/readyz` : `https://127.0.0.1:${port}/healthz`;
        await waitUntil(`${component} ${version} to serve`, restarted, 90_000, async () => (await statusOf(probe, component === 'kube-apiserver' ? admin : { rejectUnauthorized: false })) === 200);
        versions[component] = version;
      },
      startupMs: performance.now() - started,
      audit: () => readAudit(join(dir, 'audit', 'kube-apiserver.log')),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The machine config's extraArgs with addresses moved to loopback: tests never listen on other interfaces. */
function loopback(args: Args): Args {
  return Object.fromEntries(Object.entries(args).map(([flag, value]) => [flag, flag === 'bind-address' ? '127.0.0.1' : value]));
}

import { isIP } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { factoryUrl, registerSchematics } from './factory/schematics.ts';
import { PRIVATE_FILE_MODE, addressResolver, createLogger, envNumber, execFile, flagOn, kubeconfigPath, renderedDir, replaceDirectoryAtomic, writeFileAtomic } from '@groundwork/kit';
import { EXIT_CODES, type ClusterOutcome, type LoadedCluster } from '@groundwork/cluster';
import { LAYER, renderCluster } from './cluster-render.ts';
import { nodeImages } from './config/platform.ts';
import { loadTalosSecrets } from './talos-secrets.ts';
import { checkAdminClient, checkBundle } from './pki/inspect.ts';
import { applyCluster, type ApplyContext } from './api/apply-flow.ts';
import { liveProblems } from './api/live.ts';
import { recordInstalled } from './day2/installed.ts';
import { adminCredentials } from './api/admin.ts';
import { kubernetesVersionJump } from './day2/version-guard.ts';
import type { ApplyMode } from './api/client.ts';

export { LAYER };


export async function generateTalos(root: string, cluster: LoadedCluster): Promise<ClusterOutcome> {
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) return { problems: [secrets.problem] };
  const result = renderCluster(root, cluster, secrets.bundle, secrets.client);
  if (result.problems.length) return { problems: result.problems };
  replaceDirectoryAtomic(renderedDir(root, cluster.name, LAYER), result.files, { dirMode: 0o700 });
  const pi = cluster.config.nodes.find((n) => n.platform === 'rpi4');
  const notes = pi ? [`Raspberry Pi image to flash: ${nodeImages(cluster.config, pi).bootMedia} (all boot media: rendered/${LAYER}/boot-media.md)`] : [];
  return { problems: [], notes, summary: `${cluster.config.nodes.length} machine configs and a talosconfig in clusters/${cluster.name}/rendered/${LAYER}/` };
}

function trackedRenderedFiles(root: string, cluster: string): string[] {
  const result = execFile('git', ['ls-files', '--', `clusters/${cluster}/rendered`], { cwd: root });
  return result.status === 0 ? result.stdout.toString().split('\n').filter(Boolean) : [];
}

/**
 * Static: the bundle and client pass the PKI checks, the rendered files are exactly what the cluster file,
 * the bundle and the patches give (which also re-runs the schema and Talos's rules), and nothing rendered is
 * tracked by git. Live (GROUNDWORK_LIVE=1): the running cluster matches.
 */
export async function verifyTalos(root: string, cluster: LoadedCluster, env: NodeJS.ProcessEnv = process.env): Promise<ClusterOutcome> {
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) return { problems: [secrets.problem] };
  const problems: string[] = [];
  const notes: string[] = [];
  for (const report of [checkBundle(secrets.bundle), checkAdminClient(secrets.client, secrets.bundle)]) {
    problems.push(...report.problems);
    notes.push(...report.notes);
  }
  const expected = renderCluster(root, cluster, secrets.bundle, secrets.client);
  problems.push(...expected.problems);
  const dir = renderedDir(root, cluster.name, LAYER);
  for (const file of expected.files) {
    const path = join(dir, file.path);
    if (!existsSync(path)) problems.push(`rendered/${LAYER}/${file.path} is missing (run: npx nx run talos-config:generate --cluster=${cluster.name})`);
    else if (!readFileSync(path).equals(Buffer.from(file.data))) problems.push(`rendered/${LAYER}/${file.path} does not match the cluster file, bundle and patches (re-run generate)`);
  }
  for (const tracked of trackedRenderedFiles(root, cluster.name)) problems.push(`${tracked}: rendered output is tracked by git (it holds key material)`);
  if (env.GROUNDWORK_LIVE) {
    const kubeconfig = existsSync(kubeconfigPath(root, cluster.name)) ? readFileSync(kubeconfigPath(root, cluster.name), 'utf8') : undefined;
    problems.push(
      ...(await liveProblems({
        cluster: cluster.config,
        mtls: adminCredentials(secrets),
        kubeconfig,
        resolve: addressResolver(env),
        log: createLogger(`${LAYER}:verify`),
        timeoutMs: envNumber(env, 'GROUNDWORK_TALOS_CALL_TIMEOUT_MS', 15_000),
        healthWaitSeconds: envNumber(env, 'GROUNDWORK_TALOS_HEALTH_WAIT_SECONDS', 300),
      })).map((p) => `live: ${p}`),
    );
  } else notes.push('static checks only (set GROUNDWORK_LIVE=1 to check the running cluster too)');
  return { problems, notes, summary: `${cluster.config.nodes.length} configs match the bundle, PKI checks pass${env.GROUNDWORK_LIVE ? ', live cluster healthy' : ''}` };
}

const MODES: Record<string, ApplyMode> = { auto: 'AUTO', 'no-reboot': 'NO_REBOOT', reboot: 'REBOOT', staged: 'STAGED', try: 'TRY' };

export function applyMode(text: string | undefined): ApplyMode {
  const mode = MODES[(text ?? 'auto').toLowerCase()];
  if (!mode) throw new Error(`apply mode "${text}": use one of ${Object.keys(MODES).join(', ')}`);
  return mode;
}

export interface ApplyOptions {
  mode: ApplyMode;
  dryRun: boolean;
  env: NodeJS.ProcessEnv;
  /** `node=address,…`: where fresh machines answer in maintenance mode (their DHCP addresses). */
  maintenance?: string;
}

/** `cp-1=192.168.1.50,w-1=192.168.1.51` as node name to address, each node and address checked. */
export function maintenanceAddresses(text: string | undefined, cluster: LoadedCluster): { addresses: Map<string, string>; problems: string[] } {
  const addresses = new Map<string, string>();
  const problems: string[] = [];
  for (const item of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, address, ...rest] = item.split('=');
    if (!name || !address || rest.length) problems.push(`--maintenance: "${item}" is not NODE=ADDRESS`);
    else if (!cluster.config.nodes.some((n) => n.name === name)) problems.push(`--maintenance: ${cluster.name} has no node ${name}`);
    else if (!isIP(address)) problems.push(`--maintenance: ${address} (for ${name}) is not an IP address`);
    else addresses.set(name, address);
  }
  return { addresses, problems };
}

/** Pushes the rendered configs, bootstraps once, waits for Kubernetes, and keeps the kubeconfig (0600). */
export async function applyTalos(root: string, cluster: LoadedCluster, options: ApplyOptions): Promise<ClusterOutcome> {
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) return { problems: [secrets.problem] };
  const dir = renderedDir(root, cluster.name, LAYER);
  const configs = new Map<string, string>();
  for (const node of cluster.config.nodes) {
    const path = join(dir, 'nodes', `${node.name}.yaml`);
    if (!existsSync(path)) return { problems: [`rendered/${LAYER}/nodes/${node.name}.yaml is missing: run generate first`] };
    configs.set(node.name, readFileSync(path, 'utf8'));
  }
  const env = options.env;
  const maintenance = maintenanceAddresses(options.maintenance ?? env.GROUNDWORK_MAINTENANCE_ADDRESSES, cluster);
  if (maintenance.problems.length) return { problems: maintenance.problems };
  const ms = (name: string, fallback: number) => envNumber(env, name, fallback);
  const context: ApplyContext = {
    cluster: cluster.config,
    configs,
    mtls: adminCredentials(secrets),
    kubernetesCa: secrets.bundle.certs.k8s.crt,
    resolve: addressResolver(env),
    // Every line of a dry run says so.
    log: createLogger(`${LAYER}:apply`, process.stderr, { dryRun: options.dryRun }),
    mode: options.mode,
    dryRun: options.dryRun,
    maintenanceAddresses: maintenance.addresses,
    timeouts: {
      callMs: ms('GROUNDWORK_TALOS_CALL_TIMEOUT_MS', 15_000),
      nodeMs: ms('GROUNDWORK_TALOS_NODE_TIMEOUT_MS', 900_000),
      kubernetesMs: ms('GROUNDWORK_KUBERNETES_TIMEOUT_MS', 900_000),
      pollMs: ms('GROUNDWORK_POLL_MS', 5_000),
      probeMs: ms('GROUNDWORK_TALOS_PROBE_TIMEOUT_MS', 5_000),
    },
  };
  // A Kubernetes version change pushed by apply would restart every node's control plane and kubelet at once.
  const jump = await kubernetesVersionJump(root, cluster, secrets.bundle.certs.k8s.crt, context.resolve, context.timeouts.probeMs ?? 5_000, env);
  if (jump && !flagOn(undefined, env.GROUNDWORK_ALLOW_VERSION_CHANGE)) return { problems: [jump], exitCode: EXIT_CODES.refused };
  // An installer from the Image Factory exists only once its schematic is registered.
  const schematics = await registerSchematics(cluster, { factory: factoryUrl(env), dryRun: options.dryRun, log: context.log });
  if (schematics.problems.length) return { problems: schematics.problems };
  const report = await applyCluster(context);
  // What a machine installed from maintenance mode runs: the record upgrades compare against.
  for (const node of cluster.config.nodes) if (report.nodes[node.name] === 'installed') recordInstalled(root, cluster.name, node.name, nodeImages(cluster.config, node).installer);
  if (report.kubeconfig) writeFileAtomic(kubeconfigPath(root, cluster.name), report.kubeconfig, { mode: PRIVATE_FILE_MODE });
  const counts = Object.values(report.nodes).reduce<Record<string, number>>((acc, outcome) => ({ ...acc, [outcome]: (acc[outcome] ?? 0) + 1 }), {});
  const summary = `${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; etcd ${report.bootstrap}${report.kubeconfig ? `; kubeconfig in clusters/${cluster.name}/rendered/kubeconfig` : ''}`;
  const silent = Object.values(report.nodes).includes('unreachable');
  return { problems: report.problems, summary, ...(silent ? { exitCode: EXIT_CODES.unreachable } : {}) };
}

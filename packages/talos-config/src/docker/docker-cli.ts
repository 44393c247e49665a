import { existsSync, rmSync } from 'node:fs';
import { ProblemList, addressResolver, envNumber, formatDuration, kubeconfigPath, type Logger } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { assertNoExampleKey } from '@groundwork/secrets-sops';
import { applyTalos } from '../layer.ts';
import { adminCredentials } from '../api/admin.ts';
import { loadTalosSecrets } from '../talos-secrets.ts';
import { TalosClient, type ApplyMode } from '../api/client.ts';
import { PORTS } from '../versions.ts';
import { DockerEngine } from './engine.ts';
import { dockerDown, dockerPlan, dockerStatus, dockerUp, type DockerStatus } from './talos-docker.ts';

/**
 * `gw-talos docker up|down|status --cluster=NAME`: Talos in Docker through the Docker Engine API, then the
 * normal apply. `up` starts what is missing, waits for each node's Talos API on its published port and runs
 * applyTalos with the node addresses (10.5.0.x, unreachable from the host) mapped to those ports.
 */

export interface DockerCommandOptions {
  /** Ask Docker only read-only questions; say what would change on every line. */
  dryRun?: boolean;
  /** Print the outcome as JSON on stdout (status: the nodes; up/down: what was done). */
  json?: boolean;
  /** down: also remove clusters/<name>/rendered/kubeconfig (rendered configs and secrets always stay). */
  forget?: boolean;
  /** up: apply mode (default AUTO). */
  mode?: ApplyMode;
  /** DOCKER_HOST, GROUNDWORK_ADDRESS_MAP, timeouts; default process.env. */
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
}

/** A dry run says so on every line, whatever logger the caller passes. */
/** Where groundwork's Talos calls must go: each node's apid at the host port Docker published (through any map the user set). */
export function publishedAddressEnv(env: NodeJS.ProcessEnv, talosPorts: Map<string, number>): NodeJS.ProcessEnv {
  const user = addressResolver(env);
  const entries = [...talosPorts].map(([ip, port]) => {
    const target = user('127.0.0.1', port);
    return `${ip}:${PORTS.apid}=${target.host}:${target.port}`;
  });
  // The user's own entries come last, so they win for a node they mapped themselves.
  return { ...env, GROUNDWORK_ADDRESS_MAP: [...entries, env.GROUNDWORK_ADDRESS_MAP].filter(Boolean).join(',') };
}

type Secrets = Exclude<Awaited<ReturnType<typeof loadTalosSecrets>>, { problem: string }>;

/** Asks a node's Talos API for its version through the published port: the version, or why not. */
async function talosVersion(secrets: Secrets, ip: string, port: number, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ok: boolean; text: string }> {
  const target = addressResolver(env)('127.0.0.1', port);
  const client = new TalosClient({ ...target, serverName: ip }, adminCredentials(secrets), { timeoutMs });
  try {
    const version = await client.version();
    return { ok: true, text: `Talos ${version.tag}` };
  } catch (error) {
    return { ok: false, text: (error as Error).message };
  } finally {
    client.close();
  }
}

export async function dockerCommand(sub: 'up' | 'down' | 'status', root: string, cluster: LoadedCluster, options: DockerCommandOptions, log: Logger): Promise<number> {
  const env = options.env ?? process.env;
  const dryRun = options.dryRun ?? false;
  const out = options.stdout ?? process.stdout;
  // The caller's logger marks every line of a dry run (createLogger's dryRun option).
  const say = log;
  const name = cluster.name;

  if (sub === 'status') {
    const engine = await DockerEngine.connect(env);
    const status: DockerStatus & { nodes: Array<DockerStatus['nodes'][number] & { talos?: string }> } = await dockerStatus(engine, cluster.config);
    // Decrypting the talosconfig costs a moment: only when some node could answer.
    const secrets = status.nodes.some((n) => n.state === 'running') ? await loadTalosSecrets(root, cluster) : { problem: 'no node runs' };
    const byName = new Map(cluster.config.nodes.map((n) => [n.name, n]));
    for (const node of status.nodes) {
      const ip = byName.get(node.name)?.ip;
      if (node.state !== 'running' || !node.talosPort || !ip) continue;
      node.talos = 'problem' in secrets ? `not asked: ${secrets.problem}` : (await talosVersion(secrets, ip, node.talosPort, env, envNumber(env, 'GROUNDWORK_TALOS_PROBE_TIMEOUT_MS', 5000))).text;
    }
    if (options.json) out.write(`${JSON.stringify({ cluster: name, ...status }, null, 2)}\n`);
    else {
      say.info(`${name}: network ${status.network ? `${status.network.name} (${status.network.subnet ?? 'no subnet'})` : 'none'}`);
      for (const node of status.nodes) say.info(`${node.name}: ${node.state}${node.ip ? ` at ${node.ip}` : ''}${node.ports.length ? `, ${node.ports.join(', ')}` : ''}${node.talos ? `; Talos API: ${node.talos}` : ''}`);
    }
    return 0;
  }

  if (sub === 'down') {
    const engine = await DockerEngine.connect(env);
    const removed = await dockerDown(engine, name, { dryRun, log: say });
    const kubeconfig = kubeconfigPath(root, name);
    const forgot = !!options.forget && existsSync(kubeconfig);
    if (forgot && !dryRun) rmSync(kubeconfig);
    if (forgot) say.info(`${dryRun ? 'would remove' : 'removed'} clusters/${name}/rendered/kubeconfig`);
    if (options.json) out.write(`${JSON.stringify({ cluster: name, dryRun, ...removed, kubeconfigRemoved: forgot && !dryRun })}\n`);
    say.ok(`${name}: ${removed.containers.length} container(s) and ${removed.networks.length} network(s) ${dryRun ? 'would be ' : ''}removed; rendered configs and secrets kept${options.forget ? '' : ' (and the kubeconfig: --forget removes it)'}`);
    return 0;
  }

  const plan = dockerPlan(root, cluster);
  // up ends in apply, which refuses secrets anyone can read; refuse before any container is made.
  await assertNoExampleKey(root, cluster);
  const engine = await DockerEngine.connect(env);
  const report = await dockerUp(engine, plan, { dryRun, log: say });
  if (dryRun) {
    say.info(`then: wait for each node's Talos API, apply the rendered configs and bootstrap etcd (gw-talos apply --dry-run shows what apply would change once the nodes run)`);
    if (options.json) out.write(`${JSON.stringify({ cluster: name, dryRun, image: report.image, network: report.network, nodes: report.nodes })}\n`);
    return 0;
  }

  // A container answers only once Talos has booted in it; apply's first probe is short, so wait here first.
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) throw new ProblemList(`${name}: containers are up, but apply cannot run:`, [secrets.problem]);
  const waitMs = envNumber(env, 'GROUNDWORK_TALOS_NODE_TIMEOUT_MS', 300_000);
  const pollMs = envNumber(env, 'GROUNDWORK_POLL_MS', 2000);
  for (const { node } of plan.nodes) {
    const port = report.talosPorts.get(node.ip)!;
    await say.progress(`waiting for ${node.name}'s Talos API on 127.0.0.1:${port}`, async () => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const answer = await talosVersion(secrets, node.ip, port, env, Math.min(5000, waitMs));
        if (answer.ok) return;
        if (Date.now() > deadline) throw new ProblemList(`${node.name} did not answer on 127.0.0.1:${port} within ${formatDuration(waitMs)}:`, [answer.text], { hint: `look at its console: docker logs ${node.name}` });
        await new Promise((r) => setTimeout(r, pollMs));
      }
    });
  }
  const outcome = await applyTalos(root, cluster, { mode: options.mode ?? 'AUTO', dryRun: false, env: publishedAddressEnv(env, report.talosPorts) });
  if (outcome.problems.length) throw new ProblemList(`${name}: containers are up, but apply failed:`, outcome.problems, outcome.exitCode ? { exitCode: outcome.exitCode } : {});
  if (options.json) out.write(`${JSON.stringify({ cluster: name, dryRun, image: report.image, network: report.network, nodes: report.nodes, apply: outcome.summary })}\n`);
  const counts = Object.values(report.nodes).reduce<Record<string, number>>((acc, a) => ({ ...acc, [a]: (acc[a] ?? 0) + 1 }), {});
  say.ok(`${name}: containers ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ${outcome.summary}`);
  return outcome.exitCode ?? 0;
}

import type { LoadedCluster } from '@groundwork/cluster';
import { formatDuration, type Logger } from '@groundwork/kit';

/**
 * The destroy → recreate → verify cycle, as one scripted run of runbook D (docs/recovery.md): wipe every node
 * (or remove the Docker containers), render everything again from the repository, bring the nodes back with the
 * normal apply (install, bootstrap, kubeconfig), apply every layer, restore the newest database backup, and
 * verify the running cluster. Each phase is an existing command; this file decides which, in what order, and
 * keeps the time each took. The first phase that fails stops the run: it is shown as failed and the phases
 * after it as not run.
 */

export type Step =
  /** gw-talos with these arguments. */
  | { tool: 'gw-talos'; args: string[] }
  /** A target over every layer through Nx (gw-cluster run), with extra environment. */
  | { tool: 'targets'; target: 'generate' | 'verify' | 'apply'; env?: Record<string, string> }
  /** gw-dr with these arguments. */
  | { tool: 'gw-dr'; args: string[] };

export interface Phase {
  name: string;
  what: string;
  steps: Step[];
}

export interface RebuildOptions {
  /** NODE=IP,…: where wiped machines answer in maintenance mode when DHCP gives them other addresses. */
  maintenance?: string;
  /** Leave the database as apply creates it (empty), e.g. when no backup exists yet. */
  skipRestore?: boolean;
}

export function planRebuild(cluster: LoadedCluster, options: RebuildOptions = {}): Phase[] {
  const name = `--cluster=${cluster.name}`;
  const docker = cluster.config.nodes.every((n) => n.platform === 'docker');
  const maintenance = options.maintenance ? { GROUNDWORK_MAINTENANCE_ADDRESSES: options.maintenance } : undefined;
  const dr = cluster.config.features.dr.enabled;
  return [
    docker
      ? { name: 'destroy', what: 'remove the containers, their volumes and the network (configs and secrets stay)', steps: [{ tool: 'gw-talos', args: ['docker', 'down', name] }] }
      : { name: 'destroy', what: 'wipe every node back to maintenance mode (workers first)', steps: [{ tool: 'gw-talos', args: ['reset', '--all', '--yes', name] }] },
    { name: 'render', what: 'render every layer from the repository', steps: [{ tool: 'targets', target: 'generate' }] },
    docker
      ? { name: 'nodes', what: 'start the containers, then apply, bootstrap etcd and fetch the kubeconfig', steps: [{ tool: 'gw-talos', args: ['docker', 'up', name] }] }
      : { name: 'nodes', what: 'install the nodes from maintenance mode, bootstrap etcd, fetch the kubeconfig', steps: [{ tool: 'gw-talos', args: ['apply', name, ...(options.maintenance ? [`--maintenance=${options.maintenance}`] : [])] }] },
    // The layers need the nodes registered and Ready, which follows the API server by a while.
    { name: 'join', what: 'wait until every node is Ready in Kubernetes (control planes: etcd members)', steps: [{ tool: 'gw-talos', args: ['node', 'join', '*', name] }] },
    { name: 'platform', what: 'apply every layer in dependency order', steps: [{ tool: 'targets', target: 'apply', ...(maintenance ? { env: maintenance } : {}) }] },
    dr && !options.skipRestore
      ? { name: 'restore', what: 'restore the newest database backup (n8n stopped meanwhile)', steps: [{ tool: 'gw-dr', args: ['restore', 'postgres', name] }] }
      : { name: 'restore', what: dr ? 'skipped (--skip-restore)' : 'skipped (dr is off for this cluster)', steps: [] },
    { name: 'verify', what: 'verify every layer against the running cluster', steps: [{ tool: 'targets', target: 'verify', env: { GROUNDWORK_LIVE: '1' } }] },
  ];
}

export interface PhaseResult {
  name: string;
  outcome: 'done' | 'failed' | 'not run' | 'skipped';
  ms: number;
  code?: number;
}

export interface RebuildReport {
  phases: PhaseResult[];
  totalMs: number;
  /** 0, or the exit code of the step that failed. */
  code: number;
}

/** Runs one step; resolves with its exit code. */
export type StepRunner = (step: Step) => Promise<number>;

export function describeStep(step: Step): string {
  if (step.tool === 'targets') return `gw-cluster run ${step.target}${step.env ? ` (${Object.entries(step.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`;
  return `${step.tool} ${step.args.join(' ')}`;
}

export async function runRebuild(phases: Phase[], run: StepRunner, log: Logger, dryRun: boolean): Promise<RebuildReport> {
  const started = performance.now();
  const results: PhaseResult[] = [];
  let failed: number | undefined;
  for (const phase of phases) {
    if (failed !== undefined) {
      results.push({ name: phase.name, outcome: 'not run', ms: 0 });
      continue;
    }
    if (!phase.steps.length) {
      log.info(`${phase.name}: ${phase.what}`);
      results.push({ name: phase.name, outcome: 'skipped', ms: 0 });
      continue;
    }
    if (dryRun) {
      log.info(`plan: ${phase.name}: ${phase.what}: ${phase.steps.map(describeStep).join('; ')}`);
      results.push({ name: phase.name, outcome: 'not run', ms: 0 });
      continue;
    }
    const phaseStarted = performance.now();
    log.info(`${phase.name}: ${phase.what}`);
    let code = 0;
    for (const step of phase.steps) {
      code = await run(step);
      if (code !== 0) break;
    }
    const ms = performance.now() - phaseStarted;
    if (code === 0) {
      log.ok(`${phase.name} (${formatDuration(ms)})`);
      results.push({ name: phase.name, outcome: 'done', ms });
    } else {
      log.warn(`${phase.name} failed (exit ${code}) after ${formatDuration(ms)}: the phases after it did not run`);
      results.push({ name: phase.name, outcome: 'failed', ms, code });
      failed = code;
    }
  }
  return { phases: results, totalMs: performance.now() - started, code: failed ?? 0 };
}

export function reportTable(report: RebuildReport): string {
  const lines = report.phases.map((p) => `  ${p.name.padEnd(9)} ${p.outcome.padEnd(8)} ${p.outcome === 'done' || p.outcome === 'failed' ? formatDuration(p.ms) : ''}`.trimEnd());
  const total = report.code !== 0 ? 'failed' : report.phases.some((p) => p.outcome === 'done') ? 'done' : 'not run';
  return [...lines, `  ${'total'.padEnd(9)} ${total.padEnd(8)} ${total === 'not run' ? '' : formatDuration(report.totalMs)}`.trimEnd()].join('\n');
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES, type ClusterOutcome, type LoadedCluster } from '@groundwork/cluster';
import { addressResolver, createLogger, envNumber, renderedDir } from '@groundwork/kit';
import { KubeApi, kubeconfigLocation } from '@groundwork/kube';
import { loadTalosSecrets } from '../talos-secrets.ts';
import { LAYER } from '../cluster-render.ts';
import { Day2Stop, type Day2Context } from './context.ts';
import { adminCredentials } from '../api/admin.ts';
import { planTalosUpgrade, runTalosUpgrade } from './talos-upgrade.ts';
import { planKubernetesUpgrade, runKubernetesUpgrade } from './kubernetes-upgrade.ts';
import { forgetNode, removeNode, resetCluster, waitForJoin } from './nodes.ts';
import { forgetInstalled, readInstalled, recordInstalled } from './installed.ts';

/**
 * The Day-2 commands of gw-talos (upgrade, upgrade-k8s, node remove/forget/join) as functions of a cluster:
 * each builds the context from the cluster's secrets, kubeconfig and environment, runs, and maps a stop to the
 * exit code that says what kind it was.
 */

export interface Day2Options {
  dryRun: boolean;
  force?: boolean;
  env: NodeJS.ProcessEnv;
}

const ms = envNumber;

export async function day2Context(root: string, cluster: LoadedCluster, command: string, options: Day2Options): Promise<Day2Context | { problem: string }> {
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) return { problem: secrets.problem };
  const env = options.env;
  const kubeconfig = kubeconfigLocation(root, cluster.name, env);
  return {
    cluster: cluster.config,
    mtls: adminCredentials(secrets),
    resolve: addressResolver(env),
    log: createLogger(`gw-talos ${command}`, process.stderr, { dryRun: options.dryRun }),
    dryRun: options.dryRun,
    ...(existsSync(kubeconfig) ? { kube: KubeApi.fromKubeconfig(readFileSync(kubeconfig, 'utf8'), 'groundwork-day2') } : {}),
    timeouts: {
      callMs: ms(env, 'GROUNDWORK_TALOS_CALL_TIMEOUT_MS', 15_000),
      probeMs: ms(env, 'GROUNDWORK_TALOS_PROBE_TIMEOUT_MS', 5_000),
      nodeMs: ms(env, 'GROUNDWORK_TALOS_NODE_TIMEOUT_MS', 900_000),
      drainMs: ms(env, 'GROUNDWORK_DRAIN_TIMEOUT_MS', 300_000),
      pollMs: ms(env, 'GROUNDWORK_POLL_MS', 5_000),
    },
  };
}

async function guarded(run: () => Promise<string>): Promise<ClusterOutcome> {
  try {
    return { problems: [], summary: await run() };
  } catch (error) {
    if (!(error instanceof Day2Stop)) return { problems: [(error as Error).message], exitCode: EXIT_CODES.problems };
    return { problems: [error.message], exitCode: error.reason === 'unreachable' ? EXIT_CODES.unreachable : error.reason === 'refused' ? EXIT_CODES.refused : EXIT_CODES.problems };
  }
}

function renderedConfigs(root: string, cluster: LoadedCluster): Map<string, string> {
  const dir = renderedDir(root, cluster.name, LAYER);
  const configs = new Map<string, string>();
  for (const node of cluster.config.nodes) {
    const path = join(dir, 'nodes', `${node.name}.yaml`);
    if (!existsSync(path)) throw new Day2Stop(`rendered/${LAYER}/nodes/${node.name}.yaml is missing: run generate first`);
    configs.set(node.name, readFileSync(path, 'utf8'));
  }
  return configs;
}

export async function upgradeTalos(root: string, cluster: LoadedCluster, options: Day2Options): Promise<ClusterOutcome> {
  const ctx = await day2Context(root, cluster, 'upgrade', options);
  if ('problem' in ctx) return { problems: [ctx.problem] };
  return guarded(async () => {
    const installed = readInstalled(root, cluster.name);
    const steps = await planTalosUpgrade(ctx, { installed });
    const report = await runTalosUpgrade(ctx, steps, { installed, record: (node, installer) => recordInstalled(root, cluster.name, node, installer), force: options.force ?? false });
    const todo = steps.filter((s) => s.action === 'upgrade').length;
    return options.dryRun ? `${todo} node(s) would be upgraded, ${steps.length - todo} up to date` : `${report.upgraded.length} node(s) upgraded, ${report.unchanged.length} already up to date`;
  });
}

export async function upgradeKubernetes(root: string, cluster: LoadedCluster, options: Day2Options & { reapplyLayers?: () => Promise<void> }): Promise<ClusterOutcome> {
  const ctx = await day2Context(root, cluster, 'upgrade-k8s', options);
  if ('problem' in ctx) return { problems: [ctx.problem] };
  return guarded(async () => {
    const plan = await planKubernetesUpgrade(ctx);
    const done = await runKubernetesUpgrade(ctx, plan, { configs: renderedConfigs(root, cluster), ...(options.reapplyLayers ? { reapplyLayers: options.reapplyLayers } : {}) });
    const todo = plan.steps.filter((s) => s.action === 'upgrade').length;
    return options.dryRun ? `Kubernetes ${plan.from} → ${plan.to}: ${todo} step(s) would run` : `Kubernetes ${plan.to}: ${done.upgraded} component(s) upgraded`;
  });
}

export type NodeAction = 'remove' | 'forget' | 'join';

export async function nodeCommand(root: string, cluster: LoadedCluster, action: NodeAction, name: string, options: Day2Options): Promise<ClusterOutcome> {
  const every = action === 'join' && name === '*';
  const node = cluster.config.nodes.find((n) => n.name === name);
  if (!node && !every) return { problems: [`clusters/${cluster.name}/cluster.yaml: nodes has no node named ${name}`], exitCode: EXIT_CODES.usage };
  const ctx = await day2Context(root, cluster, `node ${action}`, options);
  if ('problem' in ctx) return { problems: [ctx.problem] };
  return guarded(async () => {
    if (action === 'join') {
      const joining = every ? cluster.config.nodes : [node!];
      await Promise.all(joining.map((n) => waitForJoin(ctx, n)));
      return every ? `all ${joining.length} nodes have joined` : `${name} has joined`;
    }
    if (!node) throw new Day2Stop(`node ${action} needs one node`);
    if (action === 'remove') await removeNode(ctx, node, { force: options.force ?? false });
    else await forgetNode(ctx, node, { force: options.force ?? false });
    if (options.dryRun) return `${name} would be ${action === 'remove' ? 'removed' : 'forgotten'}`;
    forgetInstalled(root, cluster.name, name);
    return `${name} ${action === 'remove' ? 'removed' : 'forgotten'}: delete its entry from nodes: in clusters/${cluster.name}/cluster.yaml (or give the replacement its place) and run generate`;
  });
}

/** Every node wiped and back in maintenance mode: the destroy step of a rebuild (the secrets stay in Git). */
export async function resetAll(root: string, cluster: LoadedCluster, options: Day2Options): Promise<ClusterOutcome> {
  const ctx = await day2Context(root, cluster, 'reset', options);
  if ('problem' in ctx) return { problems: [ctx.problem] };
  return guarded(async () => {
    const { back, elsewhere } = await resetCluster(ctx, cluster.config.nodes);
    if (options.dryRun) return `${cluster.config.nodes.length} node(s) would be reset`;
    for (const node of cluster.config.nodes) forgetInstalled(root, cluster.name, node.name);
    const away = elsewhere.length ? `; not back at their own address (DHCP gave them another one: apply with --maintenance=NODE=IP): ${elsewhere.join(', ')}` : '';
    return `${cluster.config.nodes.length} node(s) reset, ${back.length} in maintenance mode at their addresses${away}`;
  });
}

import { controlPlanes, kubernetesVersion, workers, type ClusterNode } from '@groundwork/cluster';
import { nodeState } from '@groundwork/kube';
import { removedApiUses, type RemovedApiUse } from './removed-apis.ts';
import { CONTROL_PLANE_COMPONENTS, withComponentVersions, type KubeComponent } from './images.ts';
import { Day2Stop, askAll, talos, waitFor, type Day2Context } from './context.ts';

/**
 * Upgrading Kubernetes as `talosctl upgrade-k8s` does it: check the path (one minor at a time, no downgrade),
 * that each node's Talos release supports the target, and that nothing is stored in an API the target removes;
 * then each control-plane component on every control plane in turn (API servers, then controller-managers,
 * then schedulers), each by a config change applied without reboot and awaited until the node's static pod
 * runs the new image and is Ready; then the kubelets, one node at a time, until the node reports the new
 * version and is Ready; then the layers are re-applied. The rendered configs already name the target
 * everywhere: each step applies a node's config with the components not yet moved held at the old version.
 */

/** Kubernetes minors each Talos release runs (siderolabs/talos pkg/machinery/compatibility). */
export const TALOS_SUPPORTS: Record<string, [number, number]> = { '1.13': [31, 36], '1.14': [32, 37] };

export interface KubernetesUpgradeStep {
  node: ClusterNode;
  component: KubeComponent;
  from: string;
  to: string;
  action: 'upgrade' | 'up to date';
}

export interface KubernetesUpgradePlan {
  from: string;
  to: string;
  steps: KubernetesUpgradeStep[];
  blockers: string[];
  removedApis: RemovedApiUse[];
}

const minor = (v: string) => Number(v.replace(/^v/, '').split('.')[1]);
const withV = (v: string) => (v.startsWith('v') ? v : `v${v}`);

interface StaticPod {
  image: string;
  ready: boolean;
}

/** The control-plane static pods (mirror pods, label k8s-app) of one component, by node name. */
async function staticPods(ctx: Day2Context, component: string): Promise<Map<string, StaticPod>> {
  const response = await ctx.kube!.request('GET', `/api/v1/namespaces/kube-system/pods?labelSelector=${encodeURIComponent(`k8s-app=${component}`)}`);
  if (response.status !== 200) throw new Error(`listing ${component} pods: HTTP ${response.status}`);
  const pods = (JSON.parse(response.body) as { items: Array<{ spec: { nodeName?: string; containers: Array<{ image: string }> }; status?: { conditions?: Array<{ type: string; status: string }> } }> }).items;
  return new Map(pods.map((p) => [p.spec.nodeName ?? '', { image: p.spec.containers[0]?.image ?? '', ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') }]));
}

const versionOfImage = (image: string) => image.slice(image.lastIndexOf(':') + 1);

export async function planKubernetesUpgrade(ctx: Day2Context): Promise<KubernetesUpgradePlan> {
  if (!ctx.kube) throw new Day2Stop('a Kubernetes upgrade needs the cluster\'s kubeconfig (run talos-config apply first)', 'problems');
  const to = withV(kubernetesVersion(ctx.cluster));
  const planes = controlPlanes(ctx.cluster);
  const nodes = [...planes, ...workers(ctx.cluster)];
  const pods = new Map<string, Map<string, StaticPod>>();
  for (const component of CONTROL_PLANE_COMPONENTS) pods.set(component, await staticPods(ctx, component));
  const steps: KubernetesUpgradeStep[] = [];
  const seen: string[] = [];
  for (const component of CONTROL_PLANE_COMPONENTS) {
    for (const node of planes) {
      const pod = pods.get(component)!.get(node.name);
      if (!pod) throw new Day2Stop(`${node.name}: no ${component} static pod in kube-system: is the control plane running?`, 'problems');
      const from = versionOfImage(pod.image);
      seen.push(from);
      steps.push({ node, component, from, to, action: from === to ? 'up to date' : 'upgrade' });
    }
  }
  for (const node of nodes) {
    const state = await nodeState(ctx.kube, node.name);
    if (!state) throw new Day2Stop(`${node.name}: Kubernetes has no such node`, 'problems');
    seen.push(state.kubeletVersion);
    steps.push({ node, component: 'kubelet', from: state.kubeletVersion, to, action: state.kubeletVersion === to ? 'up to date' : 'upgrade' });
  }
  // As talosctl: the lowest version running anywhere is where the upgrade starts.
  const from = seen.reduce((low, v) => (compare(v, low) < 0 ? v : low), seen[0] ?? to);
  const blockers: string[] = [];
  if (compare(to, from) < 0) blockers.push(`${to} is older than ${from}, which the cluster runs: Kubernetes does not downgrade`);
  else if (minor(to) - minor(from) > 1) blockers.push(`${from} → ${to} skips a minor release: upgrade one minor at a time (first to 1.${minor(from) + 1})`);
  const talosVersions = await askAll(ctx, nodes, (c) => c.version());
  for (const node of nodes) {
    const answer = talosVersions.get(node.name)!;
    if (answer instanceof Error) throw new Day2Stop(`${node.name} (${node.ip}): ${answer.message}`, 'unreachable');
    const release = answer.tag.replace(/^v/, '').split('.').slice(0, 2).join('.');
    const range = TALOS_SUPPORTS[release];
    if (!range) ctx.log.warn(`${node.name}: Talos ${answer.tag} is not one groundwork knows the Kubernetes range of`);
    else if (minor(to) < range[0] || minor(to) > range[1]) blockers.push(`${node.name}: Talos ${answer.tag} runs Kubernetes 1.${range[0]} to 1.${range[1]}, not ${to}: upgrade Talos first`);
  }
  const removed = from === to ? { blockers: [], notes: [] } : await ctx.log.progress(`checking for objects in APIs ${to} no longer serves`, () => removedApiUses(ctx.kube!, from, to));
  for (const note of removed.notes) ctx.log.warn(note);
  for (const use of removed.blockers) blockers.push(`${use.objects} object(s) of ${use.resource} (${use.versions.join(', ')}), which ${to} no longer serves (${use.source}): migrate or delete them first`);
  const removedApis = removed.blockers;
  return { from, to, steps, blockers, removedApis };
}

function compare(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

export interface KubernetesUpgradeOptions {
  /** The rendered machine config of each node (naming the target everywhere). */
  configs: Map<string, string>;
  /** Re-applies the Kubernetes layers once every node runs the target. */
  reapplyLayers?: () => Promise<void>;
}

async function waitForStaticPod(ctx: Day2Context, step: KubernetesUpgradeStep): Promise<void> {
  await waitFor(ctx, `${step.node.name}: waiting for ${step.component} ${step.to} to run and be Ready`, ctx.timeouts.nodeMs, async () => {
    const pod = (await staticPods(ctx, step.component)).get(step.node.name);
    return pod && versionOfImage(pod.image) === step.to && pod.ready ? true : undefined;
  });
}

async function waitForKubelet(ctx: Day2Context, step: KubernetesUpgradeStep): Promise<void> {
  await waitFor(ctx, `${step.node.name}: waiting for the kubelet to report ${step.to} and the node to be Ready`, ctx.timeouts.nodeMs, async () => {
    const state = await nodeState(ctx.kube!, step.node.name);
    return state && state.kubeletVersion === step.to && state.ready ? true : undefined;
  });
}

export async function runKubernetesUpgrade(ctx: Day2Context, plan: KubernetesUpgradePlan, options: KubernetesUpgradeOptions): Promise<{ upgraded: number }> {
  ctx.log.info(`plan: Kubernetes ${plan.from} → ${plan.to}`);
  for (const step of plan.steps) ctx.log.info(`plan: ${step.node.name} ${step.component}: ${step.action === 'upgrade' ? `${step.from} → ${step.to}` : `at ${step.to}`}`);
  if (plan.blockers.length) throw new Day2Stop(`the upgrade cannot start:\n  - ${plan.blockers.join('\n  - ')}`, 'refused');
  if (ctx.dryRun) return { upgraded: 0 };
  // What each node's config says now, component by component: the old version until its step is done.
  const current = new Map<string, Partial<Record<KubeComponent, string>>>();
  for (const step of plan.steps) current.set(step.node.name, { ...current.get(step.node.name), [step.component]: step.action === 'upgrade' ? step.from : step.to });
  let upgraded = 0;
  for (const step of plan.steps) {
    if (step.action === 'up to date') continue;
    const versions = { ...current.get(step.node.name), [step.component]: step.to };
    const rendered = options.configs.get(step.node.name);
    if (!rendered) throw new Day2Stop(`${step.node.name}: no rendered config (run generate)`);
    const config = withComponentVersions(rendered, versions);
    ctx.log.info(`${step.node.name}: ${step.component} ${step.from} → ${step.to}`);
    await talos(ctx, step.node, (c) => c.applyConfiguration(Buffer.from(config), 'NO_REBOOT'));
    if (step.component === 'kubelet') await waitForKubelet(ctx, step);
    else await waitForStaticPod(ctx, step);
    current.set(step.node.name, versions);
    upgraded++;
  }
  if (options.reapplyLayers) await ctx.log.progress('re-applying the Kubernetes layers', options.reapplyLayers);
  return { upgraded };
}

import { controlPlanes, talosVersion, workers, type ClusterNode } from '@groundwork/cluster';
import { nodeImages } from '../config/platform.ts';
import { canLoseOne, etcdView } from './etcd.ts';
import { Day2Stop, askAll, talos, waitFor, type Day2Context } from './context.ts';
import { drainNode, notReadyNodes, releaseLeftoverCordons, waitReadyAndUncordon } from './kube-steps.ts';
import { TALOS_SUPPORTS } from './kubernetes-upgrade.ts';

/**
 * Upgrading Talos on the nodes to what the cluster file pins (`versions.talos`, and each node's extensions,
 * which pick its installer), the way talosctl 1.13 upgrades one node: pull the installer into the node's
 * containerd, LifecycleService.Upgrade to install it, drain, reboot, wait for the new system. groundwork adds
 * the order and the gates: control planes first, one at a time, each only while etcd is healthy and keeps a
 * quorum without it (Talos 1.13 no longer checks that itself), then workers; before each node every node must
 * be Ready, and after it the node must answer with the new version and be Ready again. Each finished node is
 * recorded (installed.ts), so a run that was interrupted resumes where it stopped.
 */

export interface TalosUpgradeStep {
  node: ClusterNode;
  /** The Talos version the node runs now. */
  from: string;
  to: string;
  installer: string;
  action: 'upgrade' | 'up to date';
  why: string;
}

export interface TalosUpgradeOptions {
  /** The installer image each node was last recorded with. */
  installed: Record<string, string>;
  /** Called when a node finished, to record its installer. */
  record: (node: string, installer: string) => void;
  /** Two etcd members cannot lose one; --force upgrades them anyway (etcd stops until the node is back). */
  force?: boolean;
}

/** What each node needs, from its live version and its recorded installer; a silent node stops the plan. */
export async function planTalosUpgrade(ctx: Day2Context, options: Pick<TalosUpgradeOptions, 'installed'>): Promise<TalosUpgradeStep[]> {
  const ordered = [...controlPlanes(ctx.cluster), ...workers(ctx.cluster)];
  const versions = await ctx.log.progress(`asking the ${ordered.length} nodes for their Talos version`, () => askAll(ctx, ordered, (c) => c.version()));
  const silent = ordered.filter((n) => versions.get(n.name) instanceof Error);
  if (silent.length) {
    throw new Day2Stop(`${silent.map((n) => `${n.name} (${n.ip}): ${(versions.get(n.name) as Error).message}`).join('; ')}: every node must answer before an upgrade starts`, 'unreachable');
  }
  const to = talosVersion(ctx.cluster);
  await checkKubernetesSupported(ctx, to);
  return ordered.map((node) => {
    const from = (versions.get(node.name) as { tag: string }).tag;
    const installer = nodeImages(ctx.cluster, node).installer;
    const recorded = options.installed[node.name];
    const why = from !== to ? `Talos ${from} → ${to}` : recorded && recorded !== installer ? `installer ${recorded} → ${installer} (extensions changed)` : '';
    return { node, from, to, installer, action: why ? 'upgrade' : 'up to date', why: why || (recorded ? 'at its version and installer' : 'at its version (installer not recorded yet)') };
  });
}

/** The Talos release the nodes move to must run the Kubernetes version the cluster runs now. */
async function checkKubernetesSupported(ctx: Day2Context, to: string): Promise<void> {
  if (!ctx.kube) return;
  const response = await ctx.kube.request('GET', '/version').catch(() => undefined);
  if (response?.status !== 200) return;
  const running = (JSON.parse(response.body) as { gitVersion?: string }).gitVersion ?? '';
  const range = TALOS_SUPPORTS[to.replace(/^v/, '').split('.').slice(0, 2).join('.')];
  const minor = Number(running.replace(/^v/, '').split('.')[1]);
  if (range && (minor < range[0] || minor > range[1])) {
    throw new Day2Stop(`Talos ${to} runs Kubernetes 1.${range[0]} to 1.${range[1]}, and the cluster runs ${running}: move Kubernetes into that range first (gw-talos upgrade-k8s)`, 'refused');
  }
}

/** The gates before a node goes down: every node Ready, and for a control plane, etcd able to lose it. */
async function gate(ctx: Day2Context, step: TalosUpgradeStep, force: boolean): Promise<void> {
  const notReady = await notReadyNodes(ctx, [...controlPlanes(ctx.cluster), ...workers(ctx.cluster)]);
  if (notReady.length) throw new Day2Stop(`before ${step.node.name}: node(s) ${notReady.join(', ')} are not Ready in Kubernetes; the upgrade waits for a healthy cluster (run it again once they are)`, 'refused');
  if (step.node.role !== 'controlplane') return;
  const view = await etcdView(ctx);
  if (view.problems.length) throw new Day2Stop(`before ${step.node.name}: etcd is not healthy: ${view.problems.join('; ')}`, 'refused');
  const quorum = canLoseOne(view);
  if (!quorum.ok && !force) throw new Day2Stop(`before ${step.node.name}: ${quorum.reason}; add a control plane first, or pass --force to accept etcd stopping until ${step.node.name} is back`, 'refused');
  if (quorum.single || !quorum.ok) ctx.log.warn(`${step.node.name}: ${quorum.reason}`);
  else ctx.log.info(`${step.node.name}: etcd healthy, ${quorum.reason}`);
}

async function upgradeNode(ctx: Day2Context, step: TalosUpgradeStep, options: TalosUpgradeOptions): Promise<void> {
  const { node } = step;
  await gate(ctx, step, options.force ?? false);
  // The install names the image as the pull reported it (Talos: "the reference name of the image, as returned by image pull").
  const pulled = await ctx.log.progress(`${node.name}: pulling ${step.installer}`, () => talos(ctx, node, (c) => c.pullImage(step.installer, ctx.timeouts.nodeMs), ctx.timeouts.nodeMs));
  await ctx.log.progress(`${node.name}: installing ${pulled}`, () => talos(ctx, node, (c) => c.installUpgrade(pulled, (m) => ctx.log.info(`${node.name}: ${m}`), ctx.timeouts.nodeMs), ctx.timeouts.nodeMs));
  await drainNode(ctx, node, 'talos-upgrade');
  if (node.role === 'controlplane') {
    // A leader that reboots costs an election timeout; handing leadership over first does not.
    const view = await etcdView(ctx);
    if (view.leader === node.name && view.members.length > 1) {
      const next = await talos(ctx, node, (c) => c.etcdForfeitLeadership());
      ctx.log.info(`${node.name}: handed etcd leadership to ${next || 'another member'}`);
    }
  }
  // The same release with other extensions answers with the same version before and after: the boot time
  // is what tells that the reboot happened.
  const booted = await talos(ctx, node, (c) => c.bootTime());
  await talos(ctx, node, (c) => c.reboot());
  ctx.log.info(`${node.name}: rebooting into ${step.to}`);
  await waitFor(ctx, `${node.name}: waiting for Talos ${step.to} to answer after the reboot`, ctx.timeouts.nodeMs, async () => {
    const [version, boot] = await talos(ctx, node, (c) => Promise.all([c.version(), c.bootTime()]), ctx.timeouts.probeMs);
    return version.tag === step.to && boot !== booted ? true : undefined;
  });
  await waitReadyAndUncordon(ctx, node);
  if (node.role === 'controlplane') {
    await waitFor(ctx, `${node.name}: waiting for etcd to be healthy again`, ctx.timeouts.nodeMs, async () => ((await etcdView(ctx)).problems.length === 0 ? true : undefined));
  }
  options.record(node.name, step.installer);
}

export interface TalosUpgradeReport {
  upgraded: string[];
  unchanged: string[];
}

export async function runTalosUpgrade(ctx: Day2Context, steps: TalosUpgradeStep[], options: TalosUpgradeOptions): Promise<TalosUpgradeReport> {
  for (const step of steps) ctx.log.info(`plan: ${step.node.name} (${step.node.role === 'controlplane' ? 'control plane' : 'worker'}, ${step.from}): ${step.action === 'upgrade' ? `upgrade, ${step.why}` : step.why}`);
  const report: TalosUpgradeReport = { upgraded: [], unchanged: steps.filter((s) => s.action === 'up to date').map((s) => s.node.name) };
  const leftovers = await releaseLeftoverCordons(ctx, steps.filter((s) => s.action === 'up to date').map((s) => s.node), 'talos-upgrade');
  if (leftovers.length) ctx.log.info(`resumed: ${leftovers.join(', ')} finished before the interruption; cordon ${ctx.dryRun ? 'would be lifted' : 'lifted'}`);
  if (ctx.dryRun) return report;
  for (const step of steps) {
    if (step.action === 'up to date') {
      // A node at its version whose installer was never recorded (installed before records were kept) is taken as is.
      if (!options.installed[step.node.name] && step.from === step.to) options.record(step.node.name, step.installer);
      continue;
    }
    await upgradeNode(ctx, step, options);
    report.upgraded.push(step.node.name);
    ctx.log.ok(`${step.node.name}: Talos ${step.to} (${report.upgraded.length} of ${steps.filter((s) => s.action === 'upgrade').length})`);
  }
  return report;
}

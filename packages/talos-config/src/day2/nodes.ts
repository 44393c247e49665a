import { controlPlanes, type ClusterNode } from '@groundwork/cluster';
import { nodeState } from '@groundwork/kube';
import { canLoseOne, etcdView, memberIdHex } from './etcd.ts';
import { Day2Stop, talos, waitFor, withNode, type Day2Context } from './context.ts';
import { drainNode } from './kube-steps.ts';

/**
 * Taking nodes out of a cluster and putting failed control planes' places back, as Talos documents it
 * (v1.13 "Scaling down" and the control-plane notes): a healthy node is drained within its
 * PodDisruptionBudgets, leaves etcd itself if it is a control plane (only while the others keep a quorum),
 * is reset (wiped; it powers off) and is deleted from Kubernetes. A control plane that has failed cannot leave:
 * a healthy control plane removes its etcd member by ID first, so the dead member stops counting towards the
 * quorum, then its Node is deleted and the replacement joins with the normal apply.
 */

async function deleteNodeObject(ctx: Day2Context, node: ClusterNode): Promise<void> {
  if (!ctx.kube) return;
  const response = await ctx.kube.request('DELETE', `/api/v1/nodes/${node.name}`);
  if (response.status >= 300 && response.status !== 404) throw new Day2Stop(`${node.name}: deleting the Node failed (HTTP ${response.status})`);
  ctx.log.info(`${node.name}: Node deleted from Kubernetes`);
}

export async function removeNode(ctx: Day2Context, node: ClusterNode, options: { force?: boolean } = {}): Promise<void> {
  const planes = controlPlanes(ctx.cluster);
  if (node.role === 'controlplane' && planes.length === 1) throw new Day2Stop(`${node.name} is the only control plane: removing it removes the cluster (reset it with the destroy cycle instead)`, 'refused');
  // The node must answer: a failed one is forgotten with `node replace`, not drained and reset.
  await talos(ctx, node, (c) => c.version(), ctx.timeouts.probeMs).catch((error: Error) => {
    throw new Day2Stop(`${node.name} (${node.ip}) does not answer (${error.message}); if it has failed, use: gw-talos node forget ${node.name}`, 'unreachable');
  });
  if (node.role === 'controlplane') {
    const view = await etcdView(ctx);
    const quorum = canLoseOne(view);
    if (view.problems.length && !options.force) throw new Day2Stop(`etcd is not healthy, so ${node.name} cannot leave safely: ${view.problems.join('; ')}`, 'refused');
    if (!quorum.ok && !options.force) throw new Day2Stop(`${quorum.reason}; add a control plane before removing ${node.name}`, 'refused');
  }
  ctx.log.info(`plan: drain ${node.name}${node.role === 'controlplane' ? ', have it leave etcd' : ''}, reset it (wiped, powered off), delete its Node`);
  if (ctx.dryRun) return;
  await drainNode(ctx, node, 'node-remove');
  if (node.role === 'controlplane') {
    await ctx.log.progress(`${node.name}: leaving etcd`, () => talos(ctx, node, (c) => c.etcdLeaveCluster()));
    const other = planes.find((p) => p.name !== node.name)!;
    const members = await talos(ctx, other, (c) => c.etcdMembers());
    if (members.some((m) => m.hostname === node.name)) throw new Day2Stop(`${node.name} still shows as an etcd member on ${other.name}`);
  }
  // graceful=false: the node left etcd and was drained above, where failures stop the command; Talos's own
  // graceful steps would only log them.
  await talos(ctx, node, (c) => c.reset({ graceful: false, reboot: false }));
  ctx.log.info(`${node.name}: reset (it wipes its disks and powers off)`);
  await deleteNodeObject(ctx, node);
}

/** A failed control plane's etcd member removed from a healthy one, and its Node deleted. */
export async function forgetNode(ctx: Day2Context, node: ClusterNode, options: { force?: boolean } = {}): Promise<void> {
  // Forgetting a node that still runs would pull a healthy member out from under it.
  const alive = await talos(ctx, node, (c) => c.version(), ctx.timeouts.probeMs).then(() => true, () => false);
  if (alive && !options.force) throw new Day2Stop(`${node.name} (${node.ip}) answers: it has not failed. Remove it with gw-talos node remove ${node.name} (or pass --force to forget it anyway)`, 'refused');
  if (node.role === 'controlplane') {
    const others = controlPlanes(ctx.cluster).filter((p) => p.name !== node.name);
    let removed = false;
    for (const other of others) {
      const members = await talos(ctx, other, (c) => c.etcdMembers(), ctx.timeouts.probeMs).catch(() => undefined);
      if (!members) continue;
      const member = members.find((m) => m.hostname === node.name);
      if (!member) {
        ctx.log.info(`${node.name}: not an etcd member (any more)`);
        removed = true;
        break;
      }
      ctx.log.info(`plan: remove etcd member ${memberIdHex(member.id)} (${node.name}) through ${other.name}, delete its Node`);
      if (ctx.dryRun) return;
      await talos(ctx, other, (c) => c.etcdRemoveMemberById(member.id));
      ctx.log.info(`${node.name}: etcd member ${memberIdHex(member.id)} removed`);
      removed = true;
      break;
    }
    if (!removed) throw new Day2Stop(`no other control plane answers, so ${node.name}'s etcd member cannot be removed`, 'unreachable');
  } else {
    ctx.log.info(`plan: delete ${node.name}'s Node`);
    if (ctx.dryRun) return;
  }
  await deleteNodeObject(ctx, node);
}

/** After apply configured a new node: wait until it has registered and is Ready (and is an etcd member). */
export async function waitForJoin(ctx: Day2Context, node: ClusterNode): Promise<void> {
  if (ctx.kube) {
    await waitFor(ctx, `${node.name}: waiting for it to join Kubernetes and be Ready`, ctx.timeouts.nodeMs, async () => ((await nodeState(ctx.kube!, node.name))?.ready ? true : undefined));
  }
  if (node.role === 'controlplane') {
    await waitFor(ctx, `${node.name}: waiting for it to be a voting etcd member`, ctx.timeouts.nodeMs, async () => {
      const members = await talos(ctx, node, (c) => c.etcdMembers(), ctx.timeouts.probeMs);
      return members.some((m) => m.hostname === node.name && !m.isLearner) ? true : undefined;
    });
  }
}

/**
 * The destroy half of a rebuild: every node wiped (workers first, then the control planes), rebooting into
 * maintenance mode from its boot media, where the normal apply installs it again. Nothing is drained and no
 * member leaves etcd: the whole cluster goes. A silent node stops the reset before any node is touched.
 */
export async function resetCluster(ctx: Day2Context, nodes: ClusterNode[]): Promise<{ back: string[]; elsewhere: string[] }> {
  const answers = await Promise.all(nodes.map((n) => talos(ctx, n, (c) => c.version(), ctx.timeouts.probeMs).then(() => undefined, (e: Error) => `${n.name} (${n.ip}): ${e.message}`)));
  const silent = answers.filter((a): a is string => !!a);
  if (silent.length) throw new Day2Stop(`${silent.join('; ')}: every node must answer before the cluster is reset`, 'unreachable');
  const ordered = [...nodes.filter((n) => n.role !== 'controlplane'), ...nodes.filter((n) => n.role === 'controlplane')];
  for (const node of ordered) ctx.log.info(`plan: reset ${node.name} (${node.role}): wipe, reboot into maintenance mode`);
  if (ctx.dryRun) return { back: [], elsewhere: [] };
  for (const node of ordered) {
    await talos(ctx, node, (c) => c.reset({ graceful: false, reboot: true }));
    ctx.log.info(`${node.name}: reset`);
  }
  // A machine in maintenance mode answers without a client certificate; if DHCP gave it another address it
  // does not answer at its own, and the apply that follows needs --maintenance for it.
  const back: string[] = [];
  const elsewhere: string[] = [];
  await Promise.all(ordered.map(async (node) => {
    try {
      await waitFor(ctx, `${node.name}: waiting for maintenance mode at ${node.ip}`, ctx.timeouts.nodeMs, () => withNode(ctx, node.ip, { mode: 'maintenance' }, (c) => c.version(), ctx.timeouts.probeMs).then(() => true));
      back.push(node.name);
    } catch {
      elsewhere.push(node.name);
    }
  }));
  return { back, elsewhere };
}

import { controlPlanes, kubeconfigServer, workers, type Cluster, type ClusterNode } from '@groundwork/cluster';
import type { Address, Logger } from '@groundwork/kit';
import { TalosApiError, type ApplyMode, type Credentials, type TalosClient } from './client.ts';
import { waitFor, withNode } from './calls.ts';
import { kubeCredentialsFromKubeconfig, kubeGet, withServer, type KubeCredentials } from './kube.ts';
import { extractFromTarGz } from './tar.ts';
import { PORTS } from '../versions.ts';

/**
 * Bringing nodes to their rendered configs through the Talos API, talosctl-style but as one ordered,
 * idempotent run: configure every node (maintenance mode for new ones), wait for them to come back, bootstrap
 * etcd exactly once, wait for the Kubernetes API, fetch the kubeconfig.
 */

export interface ApplyContext {
  cluster: Cluster;
  /** Rendered machine config per node name. */
  configs: Map<string, string>;
  /** talosconfig credentials (mTLS). */
  mtls: Extract<Credentials, { mode: 'mtls' }>;
  /** Kubernetes CA, to check the API server when waiting for it. */
  kubernetesCa: string;
  resolve: (host: string, port: number) => Address;
  log: Logger;
  mode: ApplyMode;
  dryRun: boolean;
  /** probeMs: how long a node may take to answer the first question (all nodes are asked at once). */
  timeouts: { callMs: number; nodeMs: number; kubernetesMs: number; pollMs: number; probeMs?: number };
  /**
   * Where a node booted without a config answers, by node name, when that is not its address in the cluster
   * file (a fresh machine in maintenance mode has whatever address DHCP gave it).
   */
  maintenanceAddresses?: Map<string, string>;
}

export type NodeOutcome = 'unchanged' | 'applied' | 'installed' | 'would change' | 'unreachable';

export interface ApplyReport {
  nodes: Record<string, NodeOutcome>;
  bootstrap: 'done' | 'already bootstrapped' | 'skipped';
  kubeconfig?: string;
  problems: string[];
}

/** A call to `node` (at `address` when it answers elsewhere, e.g. in maintenance mode at its DHCP address). */
function withClient<T>(ctx: ApplyContext, node: ClusterNode, credentials: Credentials, use: (client: TalosClient) => Promise<T>, address = node.ip, timeoutMs?: number): Promise<T> {
  return withNode(ctx, address, credentials, use, timeoutMs);
}

const TLS_REJECTED = /certificate|self.signed|handshake|SSL|TLS|unable to verify/i;

/**
 * A node that answers with our CA is configured; one whose certificate our CA does not sign but which answers
 * without a client certificate is in maintenance mode (booted without config); anything else is unreachable.
 */
async function probe(ctx: ApplyContext, node: ClusterNode, address = node.ip): Promise<'configured' | 'maintenance' | 'unreachable'> {
  const timeout = ctx.timeouts.probeMs ?? ctx.timeouts.callMs;
  try {
    await withClient(ctx, node, ctx.mtls, (c) => c.version(), address, timeout);
    return 'configured';
  } catch (error) {
    if (!TLS_REJECTED.test((error as Error).message)) return 'unreachable';
  }
  try {
    await withClient(ctx, node, { mode: 'maintenance' }, (c) => c.version(), address, timeout);
    return 'maintenance';
  } catch {
    return 'unreachable';
  }
}

/** Where the node answers now: its own address, or, for a fresh machine, the maintenance address given for it. */
async function locate(ctx: ApplyContext, node: ClusterNode): Promise<{ state: 'configured' | 'maintenance' | 'unreachable'; address: string }> {
  const own = await probe(ctx, node);
  const other = ctx.maintenanceAddresses?.get(node.name);
  if (own !== 'unreachable' || !other || other === node.ip) return { state: own, address: node.ip };
  const there = await probe(ctx, node, other);
  // A machine already configured answers on its own address; one that answers configured elsewhere is not this node.
  return there === 'maintenance' ? { state: there, address: other } : { state: 'unreachable', address: node.ip };
}

const unchanged = (details: string) => /no changes/i.test(details);

type Located = Awaited<ReturnType<typeof locate>>;

async function configureNode(ctx: ApplyContext, node: ClusterNode, { state, address }: Located): Promise<NodeOutcome> {
  const data = Buffer.from(ctx.configs.get(node.name) ?? '', 'utf8');
  if (state === 'unreachable') throw new Error(`${node.name} stopped answering`);
  if (state === 'maintenance') {
    if (ctx.dryRun) return 'would change';
    if (address !== node.ip) ctx.log.info(`${node.name}: in maintenance mode at ${address}; it comes back at ${node.ip} with its config`);
    // In maintenance mode the node installs Talos with this config and reboots into it, at its own address.
    await withClient(ctx, node, { mode: 'maintenance' }, (c) => c.applyConfiguration(data, 'AUTO'), address);
    return 'installed';
  }
  return withClient(ctx, node, ctx.mtls, async (mtls) => {
    const preview = await mtls.applyConfiguration(data, ctx.mode, { dryRun: true });
    if (unchanged(preview.details)) return 'unchanged';
    if (ctx.dryRun) {
      ctx.log.info(`${node.name}: ${preview.details.trim().split('\n').slice(0, 20).join('\n    ')}`);
      return 'would change';
    }
    const applied = await mtls.applyConfiguration(data, ctx.mode);
    for (const warning of applied.warnings) ctx.log.warn(`${node.name}: ${warning}`);
    return 'applied' as const;
  });
}

async function bootstrapOnce(ctx: ApplyContext, first: ClusterNode): Promise<ApplyReport['bootstrap']> {
  return waitFor(ctx, `bootstrapping etcd on ${first.name}`, ctx.timeouts.nodeMs, () =>
    withClient(ctx, first, ctx.mtls, async (mtls) => {
      // Bootstrap exactly once: a cluster whose etcd already has members is left alone.
      const members = await mtls.etcdMembers().catch(() => []);
      if (members.length > 0) return 'already bootstrapped' as const;
      try {
        await mtls.bootstrap();
        return 'done' as const;
      } catch (error) {
        // ALREADY_EXISTS: etcd already has data (a bootstrap raced us, or members are not listed yet).
        if (error instanceof TalosApiError && error.code === 6) return 'already bootstrapped' as const;
        throw error;
      }
    }),
  );
}

export async function applyCluster(ctx: ApplyContext): Promise<ApplyReport> {
  const report: ApplyReport = { nodes: {}, bootstrap: 'skipped', problems: [] };
  const ordered = [...controlPlanes(ctx.cluster), ...workers(ctx.cluster)];
  // Every node is asked at once, with one short timeout, and the whole plan is shown before anything changes;
  // a node that does not answer stops the run before any other node is touched.
  const located = await ctx.log.progress(`asking the ${ordered.length} nodes where they stand`, () => Promise.all(ordered.map((node) => locate(ctx, node))));
  const PLAN = { configured: 'configured: gets its config if it changed', maintenance: 'in maintenance mode: gets its config, installs Talos and reboots', unreachable: 'does not answer' };
  ordered.forEach((node, i) => ctx.log.info(`plan: ${node.name} at ${located[i]!.address}: ${PLAN[located[i]!.state]}`));
  ordered.forEach((node, i) => {
    if (located[i]!.state !== 'unreachable') return;
    report.nodes[node.name] = 'unreachable';
    const other = ctx.maintenanceAddresses?.get(node.name);
    report.problems.push(`${node.name} (${node.ip}:${PORTS.apid}${other ? `, or ${other} in maintenance mode` : ''}) does not answer: is it powered on and on the network?${other ? '' : ' A fresh machine answers at its DHCP address: give it with --maintenance=' + node.name + '=<address>'}`);
  });
  if (report.problems.length) return report;
  for (const [i, node] of ordered.entries()) {
    const outcome = await ctx.log.progress(`${node.name} (${node.ip}): applying its config`, () => configureNode(ctx, node, located[i]!));
    report.nodes[node.name] = outcome;
    ctx.log.info(`${node.name}: ${outcome}`);
  }
  if (ctx.dryRun) return report;
  for (const node of ordered.filter((n) => report.nodes[n.name] === 'installed')) {
    await waitFor(ctx, `waiting for ${node.name} to come back with its config`, ctx.timeouts.nodeMs, () => withClient(ctx, node, ctx.mtls, (c) => c.version()));
  }
  const first = controlPlanes(ctx.cluster)[0]!;
  report.bootstrap = await bootstrapOnce(ctx, first);
  // Talos runs kube-apiserver with anonymous requests refused, so readiness is asked for with the admin
  // kubeconfig, which Talos hands out from the machine config before the API server is up.
  const fetched = await waitFor(ctx, `fetching the admin kubeconfig from ${first.name}`, ctx.timeouts.nodeMs, () =>
    withClient(ctx, first, ctx.mtls, async (c) => extractFromTarGz(await c.kubeconfigArchive(), 'kubeconfig').toString('utf8')),
  );
  // Talos writes the nodes' endpoint into it; from the operator's machine the API may be elsewhere
  // (kubeconfigEndpoint: a port Docker publishes).
  const kubeconfig = ctx.cluster.kubeconfigEndpoint ? withServer(fetched, kubeconfigServer(ctx.cluster)) : fetched;
  const admin = kubeCredentialsFromKubeconfig(kubeconfig);
  // The server must prove itself with the cluster's CA from the bundle, whatever the kubeconfig says.
  const kube: KubeCredentials = { ...admin, server: admin.server || kubeconfigServer(ctx.cluster), ca: ctx.kubernetesCa };
  await waitFor(ctx, `waiting for the Kubernetes API at ${kube.server} to be ready`, ctx.timeouts.kubernetesMs, async () => {
    const response = await kubeGet(kube, '/readyz', ctx.resolve, ctx.timeouts.callMs);
    if (response.status === 200) return true;
    throw new Error(`/readyz answered ${response.status}${response.body ? `: ${response.body.trim().split('\n').filter((l) => l.startsWith('[-]')).join(', ') || response.body.trim().slice(0, 200)}` : ''}`);
  });
  report.kubeconfig = kubeconfig;
  return report;
}

import { EXIT_CODES, kubernetesVersion, talosVersion, type LoadedCluster } from '@groundwork/cluster';
import { connect, type KubeApi, type KubeObject } from '@groundwork/kube';
import { envNumber } from '@groundwork/kit';
import { loadTalosSecrets, type TalosSecrets } from '@groundwork/talos-config';
import { WARN_DAYS, bundleCertificates } from './certs.ts';
import { collectAlerts, collectBackups, collectWorkloads, firstLine, kubeletCertificates, within } from './kube.ts';
import { askTalos, type TalosAnswers } from './talos.ts';
import { worst, type AlertsSection, type BackupsSection, type CertificatesSection, type ClusterStatus, type NodeStatus, type Section, type Verdict, type WorkloadsSection } from './types.ts';

/**
 * Gathers one cluster's status: the Talos API (versions, etcd) and the Kubernetes API (nodes, workloads,
 * backups, kubelet certificates, alerts) are asked at the same time, every call with a short deadline, and
 * each section is judged on its own, so a failing part shows as such and the rest still shows.
 */

export interface CollectOptions {
  root: string;
  cluster: LoadedCluster;
  env?: NodeJS.ProcessEnv;
  /** The clock, for tests and for one consistent "now" across sections. */
  now?: number;
}

/** GROUNDWORK_TALOS_PROBE_TIMEOUT_MS, default 5 s: each call's deadline, Talos and Kubernetes alike. */
export function probeTimeoutMs(env: NodeJS.ProcessEnv): number {
  return envNumber(env, 'GROUNDWORK_TALOS_PROBE_TIMEOUT_MS', 5000) || 5000;
}

const FIELD_MANAGER = 'groundwork-status';
const bare = (version: string | undefined) => version?.replace(/^v/, '');

/** A section that could not be read because something it depends on failed. */
const unknown = <T extends object>(why: string, empty: T): Section & T => ({ verdict: 'unknown', problems: [why], ...empty });

async function guarded<T extends Section>(work: () => Promise<T>, fallback: (why: string) => T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return fallback(firstLine(error));
  }
}

function readyCondition(node: KubeObject | undefined): { ready?: boolean; reason?: string; message?: string } {
  const conditions = ((node?.status as { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } | undefined)?.conditions ?? []);
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return {};
  return { ready: ready.status === 'True', ...(ready.reason ? { reason: ready.reason } : {}), ...(ready.message ? { message: ready.message } : {}) };
}

/** Every node of the cluster file as Talos and Kubernetes see it, against the versions the file pins. */
export function judgeNodes(cluster: LoadedCluster, talos: TalosAnswers, secretsProblem: string | undefined, kubeNodes: KubeObject[] | undefined, kubeError: string | undefined): Section & { nodes: NodeStatus[] } {
  const expected = { talos: talosVersion(cluster.config), kubernetes: kubernetesVersion(cluster.config) };
  const nodes = cluster.config.nodes.map((node): NodeStatus => {
    const problems: string[] = [];
    const answer = talos.versions.get(node.name) ?? { error: 'not asked' };
    const talosView = answer.error !== undefined ? { reachable: false, error: answer.error } : { reachable: true, version: answer.version! };
    if (!secretsProblem && answer.error !== undefined) problems.push(`Talos API unreachable: ${answer.error}`);
    if (talosView.version && bare(talosView.version) !== bare(expected.talos)) problems.push(`runs Talos ${talosView.version}, the cluster file pins ${expected.talos}`);
    const object = kubeNodes?.find((n) => n.metadata.name === node.name);
    const info = (object?.status as { nodeInfo?: { kubeletVersion?: string } } | undefined)?.nodeInfo;
    const kubernetes = object ? { registered: true, ...(info?.kubeletVersion ? { version: info.kubeletVersion } : {}), ...readyCondition(object) } : { registered: false };
    if (kubeNodes && !object) problems.push('not registered in Kubernetes');
    if (object && kubernetes.ready !== true) problems.push(`not Ready${'reason' in kubernetes && kubernetes.reason ? ` (${kubernetes.reason})` : ''}`);
    if ('version' in kubernetes && kubernetes.version && bare(kubernetes.version) !== bare(expected.kubernetes)) problems.push(`kubelet ${kubernetes.version}, the cluster file pins ${expected.kubernetes}`);
    const verdict: Verdict = problems.length ? 'unhealthy' : !kubeNodes || secretsProblem ? 'unknown' : 'healthy';
    return { name: node.name, ip: node.ip, role: node.role, talos: talosView, kubernetes, expected, verdict, problems };
  });
  const problems = nodes.flatMap((n) => n.problems.map((p) => `${n.name}: ${p}`));
  for (const extra of kubeNodes?.filter((k) => !cluster.config.nodes.some((n) => n.name === k.metadata.name)) ?? []) problems.push(`${extra.metadata.name}: registered in Kubernetes but not in the cluster file`);
  if (secretsProblem) problems.push(`Talos not asked: ${secretsProblem}`);
  if (kubeError) problems.push(`Kubernetes not asked: ${kubeError}`);
  const extraNodes = problems.some((p) => p.endsWith('not in the cluster file'));
  return { verdict: extraNodes ? 'unhealthy' : worst(nodes.map((n) => n.verdict)), problems, nodes };
}

async function safeSecrets(root: string, cluster: LoadedCluster): Promise<TalosSecrets> {
  try {
    return await loadTalosSecrets(root, cluster);
  } catch (error) {
    return { problem: `cannot read the Talos secrets: ${firstLine(error)}` };
  }
}

export async function collectStatus(options: CollectOptions): Promise<ClusterStatus> {
  const { root, cluster } = options;
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now();
  const ms = probeTimeoutMs(env);

  let api: KubeApi | undefined;
  let kubeError: string | undefined;
  try {
    api = connect(root, cluster.name, FIELD_MANAGER, env);
  } catch (error) {
    kubeError = firstLine(error);
  }
  // Listing the Nodes doubles as the reachability probe: without it, no other Kubernetes section is worth asking.
  const kubeNodes = (async () => {
    if (!api) return undefined;
    try {
      return await within(ms, `list Nodes on ${api.server}`, api.list('v1', 'Node'));
    } catch (error) {
      kubeError = `the Kubernetes API did not answer: ${firstLine(error)}`;
      return undefined;
    }
  })();
  const secrets = await safeSecrets(root, cluster);
  // Asked while the Kubernetes API is, and settled at once: a failure must not reject unobserved meanwhile.
  const talos = askTalos(cluster, secrets, env, ms).then(
    (answers) => ({ answers }),
    (error: unknown) => ({ error: firstLine(error) }),
  );
  const nodesList = await kubeNodes;
  const reachableApi = nodesList ? api : undefined;
  const why = kubeError ?? 'the Kubernetes API did not answer';

  const [talosSettled, workloads, backups, kubelet, alerts] = await Promise.all([
    talos,
    reachableApi ? guarded(() => collectWorkloads(reachableApi, cluster, ms), (e) => unknown<Omit<WorkloadsSection, keyof Section>>(`cannot list workloads: ${e}`, { layers: [] })) : unknown<Omit<WorkloadsSection, keyof Section>>(why, { layers: [] }),
    reachableApi
      ? guarded(() => collectBackups(reachableApi, cluster, ms, now), (e) => unknown<Omit<BackupsSection, keyof Section>>(`cannot read the backup CronJobs: ${e}`, { enabled: cluster.config.features.dr.enabled, backups: [] }))
      : unknown<Omit<BackupsSection, keyof Section>>(why, { enabled: cluster.config.features.dr.enabled, backups: [] }),
    reachableApi ? kubeletCertificates(reachableApi, cluster.config.nodes.map((n) => n.name), ms, now, WARN_DAYS.kubelet).catch((error: unknown) => firstLine(error)) : why,
    reachableApi ? guarded(() => collectAlerts(reachableApi, cluster, ms), (e) => unknown<Omit<AlertsSection, keyof Section>>(`cannot read alerts: ${e}`, { alerts: [] })) : unknown<Omit<AlertsSection, keyof Section>>(why, { alerts: [] }),
  ]);

  const talosAnswers: TalosAnswers =
    'answers' in talosSettled
      ? talosSettled.answers
      : { versions: new Map(cluster.config.nodes.map((n) => [n.name, { error: talosSettled.error }])), etcd: { verdict: 'unknown', problems: [talosSettled.error], members: [], views: [] } };
  const certificates = judgeCertificates(bundleCertificates(secrets, now), kubelet);
  const nodes = judgeNodes(cluster, talosAnswers, 'problem' in secrets ? secrets.problem : undefined, nodesList, nodesList ? undefined : why);
  const talosAsked = !('problem' in secrets);
  const talosReachable = [...talosAnswers.versions.values()].some((v) => v.version !== undefined);
  const reachable = {
    kubernetes: !!nodesList,
    talos: talosReachable,
    ...(nodesList ? {} : { kubernetesError: why }),
    ...(talosReachable ? {} : { talosError: 'problem' in secrets ? secrets.problem : 'no node answered the Talos API' }),
  };
  const sections = { nodes, etcd: talosAnswers.etcd, workloads, backups, certificates, alerts };
  const unreachable = !reachable.kubernetes || (talosAsked && !talosReachable);
  const verdict = unreachable ? 'unreachable' : worst(Object.values(sections).map((s) => s.verdict));
  const exitCode = unreachable ? EXIT_CODES.unreachable : verdict === 'unhealthy' ? EXIT_CODES.problems : 0;
  return { cluster: cluster.name, collectedAt: new Date(now).toISOString(), verdict, exitCode, reachable, ...sections };
}

/** Expired or expiring is unhealthy; "none issued" only informs (issued requests are cleaned up after an hour). */
export function judgeCertificates(bundle: ReturnType<typeof bundleCertificates>, kubelet: Awaited<ReturnType<typeof kubeletCertificates>> | string): CertificatesSection {
  const problems: string[] = [];
  const certificates = [...('problem' in bundle ? [] : bundle), ...(typeof kubelet === 'string' ? [] : kubelet)];
  if ('problem' in bundle) problems.push(`Talos secrets not read: ${bundle.problem}`);
  if (typeof kubelet === 'string') problems.push(`kubelet serving certificates not read: ${kubelet}`);
  for (const c of certificates) {
    if (c.state === 'expired') problems.push(`${c.name} expired on ${c.notAfter}`);
    if (c.state === 'expiring') problems.push(`${c.name} expires on ${c.notAfter} (${c.daysLeft} days left, warned below ${c.warnDays})`);
    if (c.state === 'unreadable') problems.push(`${c.name} cannot be read: ${c.detail}`);
  }
  const bad = certificates.some((c) => c.state === 'expired' || c.state === 'expiring');
  return { verdict: bad ? 'unhealthy' : problems.length ? 'unknown' : 'healthy', problems, certificates };
}

import { X509Certificate } from 'node:crypto';
import { backupPlan, type LoadedCluster } from '@groundwork/cluster';
import { APPLYSET, LABELS, applySetFor, rolloutState, type KubeApi, type KubeObject } from '@groundwork/kube';
import { OBSERVABILITY_NAMESPACE } from '@groundwork/observability';
import { certificateStatus } from './certs.ts';
import { DAY_SECONDS, worst, type AlertsSection, type BackupStatus, type BackupsSection, type CertificateStatus, type FiringAlert, type LayerWorkloads, type Workload, type WorkloadsSection } from './types.ts';

/**
 * The Kubernetes side of the status, each part read on its own so that one failing read leaves the others.
 * The API client has no deadline of its own, so every call goes through `within`: a status must come back in
 * seconds even when the API server hangs.
 */

export class Deadline extends Error {}

export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Deadline(`${what}: no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]!;

const num = (value: unknown) => (typeof value === 'number' ? value : 0);
const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});

/** Ready against desired for one workload, with rolloutState's wording. */
export function workloadOf(object: KubeObject): Workload {
  const spec = record(object.spec);
  const status = record(object.status);
  const kind = object.kind as Workload['kind'];
  const desired = kind === 'DaemonSet' ? num(status.desiredNumberScheduled) : typeof spec.replicas === 'number' ? spec.replicas : 1;
  const ready = kind === 'Deployment' ? num(status.availableReplicas) : kind === 'StatefulSet' ? num(status.readyReplicas) : num(status.numberAvailable);
  const state = rolloutState(object);
  // A rollout in progress with every replica up is fine; fewer ready than wanted, or a stuck rollout, is not.
  const healthy = ready >= desired && !state?.failed;
  return { kind, namespace: object.metadata.namespace ?? '', name: object.metadata.name, desired, ready, detail: state?.detail ?? `${ready}/${desired}`, healthy };
}

/**
 * Deployments, StatefulSets and DaemonSets grouped by the layer that applied them: members of a layer's ApplySet
 * (its id label, which only the apply engine stamps) that name the layer. Objects groundwork did not apply are
 * not its business here.
 */
export async function collectWorkloads(api: KubeApi, cluster: LoadedCluster, ms: number): Promise<WorkloadsSection> {
  const selector = `${APPLYSET.partOf},${LABELS.layer},${LABELS.cluster}=${cluster.name}`;
  const objects = (await Promise.all((['Deployment', 'StatefulSet', 'DaemonSet'] as const).map((kind) => within(ms, `list ${kind}s`, api.list('apps/v1', kind, { labelSelector: selector }))))).flat();
  const byLayer = new Map<string, Workload[]>();
  for (const object of objects) {
    const labels = object.metadata.labels ?? {};
    const layer = labels[LABELS.layer]!;
    if (labels[APPLYSET.partOf] !== applySetFor(layer).id) continue;
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), workloadOf(object)]);
  }
  const layers: LayerWorkloads[] = [...byLayer.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([layer, workloads]) => ({ layer, workloads: workloads.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)), verdict: workloads.every((w) => w.healthy) ? 'healthy' : 'unhealthy' }));
  const problems = layers.flatMap((l) => l.workloads.filter((w) => !w.healthy).map((w) => `${l.layer}: ${w.kind} ${w.namespace}/${w.name} ${w.ready}/${w.desired} ready (${w.detail})`));
  if (!layers.length) return { verdict: 'unknown', problems: ['no workloads applied by groundwork (has any layer been applied?)'], layers };
  return { verdict: worst(layers.map((l) => l.verdict)), problems, layers };
}

/** Each backup CronJob's newest success against how old it may be (two missed runs and an hour: cluster/cron.ts). */
export async function collectBackups(api: KubeApi, cluster: LoadedCluster, ms: number, now: number): Promise<BackupsSection> {
  const dr = cluster.config.features.dr;
  if (!dr.enabled) return { verdict: 'unknown', problems: ['dr is not enabled in the cluster file: no backups are taken'], enabled: false, backups: [] };
  const backups = await Promise.all(
    backupPlan(cluster.config).map(async (plan): Promise<BackupStatus> => {
      const base = { kind: plan.kind, cronJob: plan.job, schedule: plan.schedule, allowedAgeSeconds: plan.allowedAgeSeconds, suspended: false };
      const { namespace } = plan;
      const cron = await within(ms, `get CronJob ${namespace}/${plan.job}`, api.get({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: plan.job, namespace } }));
      if (!cron) return { ...base, verdict: 'unhealthy', problem: `CronJob ${namespace}/${plan.job} does not exist (apply the dr layer)` };
      const suspended = record(cron.spec).suspend === true;
      const last = record(cron.status).lastSuccessfulTime as string | undefined;
      const status = { ...base, suspended, ...(last ? { lastSuccessfulTime: new Date(last).toISOString(), ageSeconds: Math.round((now - Date.parse(last)) / 1000) } : {}) };
      if (suspended) return { ...status, verdict: 'unhealthy', problem: `${plan.job} is suspended` };
      if (status.ageSeconds !== undefined) {
        if (status.ageSeconds > plan.allowedAgeSeconds) return { ...status, verdict: 'unhealthy', problem: `${plan.job}: the newest successful ${plan.kind} backup is ${ago(status.ageSeconds)} old (allowed ${ago(plan.allowedAgeSeconds)} for "${plan.schedule}")` };
        return { ...status, verdict: 'healthy' };
      }
      // Never succeeded: fine for a CronJob younger than the allowed age (its first run may still be ahead).
      const created = Date.parse(String(cron.metadata.creationTimestamp ?? ''));
      const existedSeconds = Number.isNaN(created) ? Infinity : (now - created) / 1000;
      if (existedSeconds > plan.allowedAgeSeconds) return { ...status, verdict: 'unhealthy', problem: `${plan.job} has never succeeded in ${ago(existedSeconds)}` };
      return { ...status, verdict: 'healthy', problem: `${plan.job} has not run yet (created ${ago(existedSeconds)} ago)` };
    }),
  );
  const problems = backups.filter((b) => b.verdict !== 'healthy').map((b) => b.problem!);
  return { verdict: worst(backups.map((b) => b.verdict)), problems, enabled: true, namespace: dr.namespace, backups };
}

export function ago(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 2 * DAY_SECONDS) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / DAY_SECONDS)}d`;
}

/**
 * Kubelet serving certificates as the approved CertificateSigningRequests carry them (signer
 * kubernetes.io/kubelet-serving, requested as system:node:<name>): the newest certificate per node. The
 * controller-manager deletes issued requests after an hour, so "none issued" is common on a settled cluster.
 */
export async function kubeletCertificates(api: KubeApi, nodes: string[], ms: number, now: number, warnDays: number): Promise<CertificateStatus[]> {
  const requests = await within(ms, 'list CertificateSigningRequests', api.list('certificates.k8s.io/v1', 'CertificateSigningRequest'));
  const newest = new Map<string, X509Certificate>();
  for (const csr of requests) {
    const spec = record(csr.spec);
    const issued = record(csr.status).certificate;
    if (spec.signerName !== 'kubernetes.io/kubelet-serving' || typeof issued !== 'string') continue;
    const approved = ((record(csr.status).conditions ?? []) as Array<{ type: string; status: string }>).some((c) => c.type === 'Approved' && c.status === 'True');
    const node = /^system:node:(.+)$/.exec(String(spec.username ?? ''))?.[1];
    if (!approved || !node) continue;
    try {
      const cert = new X509Certificate(Buffer.from(issued, 'base64'));
      const seen = newest.get(node);
      if (!seen || Date.parse(cert.validTo) > Date.parse(seen.validTo)) newest.set(node, cert);
    } catch {
      // An undecodable certificate tells nothing about expiry; the node then shows as none issued.
    }
  }
  return nodes.map((node) => {
    const cert = newest.get(node);
    const name = `kubelet serving ${node}`;
    return cert ? certificateStatus(name, cert, now, warnDays) : { name, warnDays, state: 'none-issued', detail: 'no approved kubelet-serving request with a certificate (issued ones are deleted after an hour)' };
  });
}

interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  status?: { state?: string };
}

/** Severities that only inform (the Watchdog heartbeat is `none`): listed elsewhere, never unhealthy. */
const QUIET = new Set(['none', 'info']);

/** Alertmanager's /api/v2/alerts answer to the alerts that make a cluster unhealthy. */
export function parseAlerts(body: string): FiringAlert[] {
  const alerts = JSON.parse(body) as AlertmanagerAlert[];
  if (!Array.isArray(alerts)) throw new Error('Alertmanager answered something other than a list of alerts');
  return alerts
    .filter((a) => (a.status?.state ?? 'active') === 'active' && !QUIET.has(a.labels.severity ?? ''))
    .map((a) => ({ name: a.labels.alertname ?? '(unnamed)', severity: a.labels.severity ?? '', startsAt: new Date(a.startsAt).toISOString(), ...(a.annotations?.summary ? { summary: a.annotations.summary } : {}), labels: a.labels }))
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.name.localeCompare(b.name));
}

export const ALERTS_PATH = '/api/v2/alerts?active=true&silenced=false&inhibited=false';

/** Firing alerts from the observability layer's Alertmanager, through the API server's service proxy. */
export async function collectAlerts(api: KubeApi, cluster: LoadedCluster, ms: number): Promise<AlertsSection> {
  if (!cluster.config.features.observability.enabled) return { verdict: 'unknown', problems: ['observability is not enabled: there is no Alertmanager to ask'], alerts: [] };
  let service: KubeObject | undefined;
  try {
    const services = await within(ms, 'list Services', api.list('v1', 'Service', { namespace: OBSERVABILITY_NAMESPACE, labelSelector: `${LABELS.name}=alertmanager` }));
    service = services.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
  } catch (error) {
    return { verdict: 'unknown', problems: [`cannot look for Alertmanager: ${firstLine(error)}`], alerts: [] };
  }
  if (!service) return { verdict: 'unknown', problems: [`no Alertmanager Service in namespace ${OBSERVABILITY_NAMESPACE} (apply the observability layer)`], alerts: [] };
  const ports = (record(service.spec).ports ?? []) as Array<{ name?: string; port: number }>;
  const port = (ports.find((p) => p.name === 'http') ?? ports[0])?.port;
  const source = `${OBSERVABILITY_NAMESPACE}/${service.metadata.name}:${port}`;
  if (!port) return { verdict: 'unknown', problems: [`Service ${source} has no port`], alerts: [] };
  try {
    const { status, body } = await within(ms, `Alertmanager ${source}`, api.proxyGet(OBSERVABILITY_NAMESPACE, service.metadata.name, port, ALERTS_PATH));
    if (status !== 200) return { verdict: 'unknown', source, problems: [`Alertmanager did not answer (HTTP ${status}: ${body.replace(/\s+/g, ' ').slice(0, 160)})`], alerts: [] };
    const alerts = parseAlerts(body);
    return { verdict: alerts.length ? 'unhealthy' : 'healthy', source, problems: alerts.map((a) => `${a.name} (${a.severity}) firing since ${a.startsAt}${a.summary ? `: ${a.summary}` : ''}`), alerts };
  } catch (error) {
    return { verdict: 'unknown', source, problems: [`Alertmanager did not answer: ${firstLine(error)}`], alerts: [] };
  }
}

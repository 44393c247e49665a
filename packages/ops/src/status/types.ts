/**
 * What `gw-status` reports, as data: the screen and `--json` both come from one ClusterStatus, so the field
 * names here are the JSON's (stable: scripts and monitors read them). Dates are ISO 8601 strings, ages and
 * durations whole seconds.
 *
 * Every section carries its own verdict, so one part that cannot be read (a Talos node down, Alertmanager not
 * answering) shows as `unknown` or `unhealthy` without hiding the others.
 */

/** `unknown`: the section could not be checked (or does not apply), which is neither healthy nor a fault. */
export type Verdict = 'healthy' | 'unhealthy' | 'unknown';

export interface Section {
  verdict: Verdict;
  /** One line per thing that is wrong (or why the section is unknown); empty when healthy. */
  problems: string[];
}

export interface NodeStatus {
  name: string;
  ip: string;
  role: 'controlplane' | 'worker';
  /** What the Talos API answered (Version): its tag, or why it did not answer. */
  talos: { reachable: boolean; version?: string; error?: string };
  /** The Node object: kubelet version and the Ready condition (`registered: false` when there is none). */
  kubernetes: { registered: boolean; version?: string; ready?: boolean; reason?: string; message?: string };
  /** The versions the cluster file pins (versions.talos, versions.kubernetes). */
  expected: { talos: string; kubernetes: string };
  verdict: Verdict;
  problems: string[];
}

export interface EtcdMemberView {
  id: string;
  hostname: string;
  isLearner: boolean;
  leader: boolean;
}

/** One control plane's own view of etcd (EtcdStatus through the Talos API). */
export interface EtcdNodeView {
  node: string;
  memberId?: string;
  leaderId?: string;
  dbSizeBytes?: number;
  errors: string[];
  /** Set when the node did not answer. */
  error?: string;
}

export interface EtcdSection extends Section {
  /** The leader's hostname when the members agree on one. */
  leader?: string;
  members: EtcdMemberView[];
  views: EtcdNodeView[];
}

export interface Workload {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  /** The rollout state in `kubectl rollout status` terms ("2/2 available, 2 updated"). */
  detail: string;
  healthy: boolean;
}

export interface LayerWorkloads {
  layer: string;
  workloads: Workload[];
  verdict: Verdict;
}

export interface WorkloadsSection extends Section {
  layers: LayerWorkloads[];
}

export interface BackupStatus {
  kind: string;
  cronJob: string;
  schedule: string;
  /** How old the newest successful run may be before it counts as stale (two missed runs, plus an hour). */
  allowedAgeSeconds: number;
  lastSuccessfulTime?: string;
  ageSeconds?: number;
  suspended: boolean;
  verdict: Verdict;
  problem?: string;
}

export interface BackupsSection extends Section {
  enabled: boolean;
  namespace?: string;
  backups: BackupStatus[];
}

export interface CertificateStatus {
  /** What it is: "talosconfig admin client", "Kubernetes CA", "kubelet serving pi-w-1", … */
  name: string;
  subject?: string;
  notAfter?: string;
  /** Negative once expired. */
  daysLeft?: number;
  /** Below this many days left it is reported as expiring. */
  warnDays: number;
  state: 'ok' | 'expiring' | 'expired' | 'none-issued' | 'unreadable';
  detail?: string;
}

export interface CertificatesSection extends Section {
  certificates: CertificateStatus[];
}

export interface FiringAlert {
  name: string;
  severity: string;
  startsAt: string;
  summary?: string;
  labels: Record<string, string>;
}

export interface AlertsSection extends Section {
  /** Where they were read: "observability/alertmanager:9093", or undefined when nowhere. */
  source?: string;
  alerts: FiringAlert[];
}

export interface ClusterStatus {
  cluster: string;
  collectedAt: string;
  /** The worst section verdict; `unreachable` when the Kubernetes API or every Talos node did not answer. */
  verdict: Verdict | 'unreachable';
  /** 0 healthy, 1 something unhealthy, 5 unreachable (EXIT_CODES). */
  exitCode: number;
  reachable: { kubernetes: boolean; talos: boolean; kubernetesError?: string; talosError?: string };
  nodes: Section & { nodes: NodeStatus[] };
  etcd: EtcdSection;
  workloads: WorkloadsSection;
  backups: BackupsSection;
  certificates: CertificatesSection;
  alerts: AlertsSection;
}

/** The verdict of a set of parts: unhealthy wins, then unknown. */
export function worst(verdicts: Verdict[]): Verdict {
  if (verdicts.includes('unhealthy')) return 'unhealthy';
  if (verdicts.includes('unknown')) return 'unknown';
  return 'healthy';
}

export const DAY_SECONDS = 86_400;

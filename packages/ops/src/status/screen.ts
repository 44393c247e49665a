import { ago } from './kube.ts';
import type { ClusterStatus, Verdict } from './types.ts';

/**
 * One screen per cluster: a headline verdict, then each section with its own verdict and one line per thing,
 * and the problems (why a section is unhealthy or unknown) under it. Plain text with fixed markers instead of
 * colours, so it reads the same in a terminal, a CI log and an email.
 */

const MARK: Record<Verdict | 'unreachable', string> = { healthy: 'ok', unhealthy: 'UNHEALTHY', unknown: 'unknown', unreachable: 'UNREACHABLE' };

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

function section(title: string, verdict: Verdict, summary: string, body: string[], problems: string[]): string[] {
  return [`${title} [${MARK[verdict]}]${summary ? ` ${summary}` : ''}`, ...body, ...problems.map((p) => `  ! ${p}`), ''];
}

export function renderScreen(status: ClusterStatus): string {
  const lines = [`${status.cluster}: ${MARK[status.verdict]} (exit ${status.exitCode}, ${status.collectedAt})`, ''];
  const { nodes, etcd, workloads, backups, certificates, alerts } = status;

  const nodeRows = nodes.nodes.map((n) => [
    n.problems.length ? '✗' : n.verdict === 'healthy' ? '✓' : '?',
    n.name,
    n.ip,
    n.role,
    `talos ${n.talos.version ?? (n.talos.reachable ? '?' : 'unreachable')}`,
    `kubelet ${n.kubernetes.version ?? (n.kubernetes.registered ? '?' : '-')}`,
    !n.kubernetes.registered ? 'not registered' : n.kubernetes.ready ? 'Ready' : `NotReady${n.kubernetes.reason ? ` (${n.kubernetes.reason})` : ''}`,
  ]);
  const pinned = nodes.nodes[0] ? `pinned talos ${nodes.nodes[0].expected.talos}, kubernetes ${nodes.nodes[0].expected.kubernetes}` : '';
  lines.push(...section('Nodes', nodes.verdict, pinned, table(nodeRows), nodes.problems));

  const memberRows = etcd.members.map((m) => [m.leader ? '*' : ' ', m.hostname, m.id, m.isLearner ? 'learner' : 'voter', (() => {
    const view = etcd.views.find((v) => v.node === m.hostname);
    return view?.dbSizeBytes !== undefined ? `db ${(view.dbSizeBytes / 1024 / 1024).toFixed(1)} MiB` : '';
  })()]);
  lines.push(...section('etcd', etcd.verdict, etcd.leader ? `leader ${etcd.leader}, ${etcd.members.length} member(s)` : `${etcd.members.length} member(s), no agreed leader`, table(memberRows), etcd.problems));

  const workloadLines = workloads.layers.flatMap((l) => {
    const ready = l.workloads.filter((w) => w.healthy).length;
    return [`  ${l.layer}: ${ready}/${l.workloads.length} workloads ready`, ...table(l.workloads.filter((w) => !w.healthy).map((w) => ['✗', w.kind, `${w.namespace}/${w.name}`, `${w.ready}/${w.desired}`, w.detail]), '    ')];
  });
  lines.push(...section('Workloads', workloads.verdict, '', workloadLines, workloads.verdict === 'unhealthy' ? [] : workloads.problems));

  const backupRows = backups.backups.map((b) => [
    b.verdict === 'healthy' ? '✓' : '✗',
    b.kind,
    b.cronJob,
    `"${b.schedule}"`,
    b.ageSeconds !== undefined ? `last success ${ago(b.ageSeconds)} ago` : 'never succeeded',
    `(allowed ${ago(b.allowedAgeSeconds)})`,
  ]);
  lines.push(...section('Backups', backups.verdict, backups.namespace ? `in namespace ${backups.namespace}` : '', table(backupRows), backups.problems));

  const certRows = certificates.certificates.map((c) => [
    c.state === 'ok' ? '✓' : c.state === 'none-issued' ? '-' : '✗',
    c.name,
    c.notAfter ? `until ${c.notAfter.slice(0, 10)}` : c.state === 'none-issued' ? 'none issued' : c.state,
    c.daysLeft !== undefined ? `${c.daysLeft} days left` : '',
  ]);
  lines.push(...section('Certificates', certificates.verdict, '', table(certRows), certificates.problems));

  const alertRows = alerts.alerts.map((a) => ['✗', a.name, a.severity, `since ${a.startsAt}`, a.summary ?? '']);
  const alertSummary = alerts.source ? `from ${alerts.source}${alerts.verdict === 'unknown' ? '' : `: ${alerts.alerts.length} firing`}` : '';
  lines.push(...section('Alerts', alerts.verdict, alertSummary, table(alertRows), alerts.verdict === 'unhealthy' ? [] : alerts.problems));
  return `${lines.join('\n').trimEnd()}\n`;
}

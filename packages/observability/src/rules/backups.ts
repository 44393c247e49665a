import { backupPlan, type BackupKind, type BackupPlan, type LoadedCluster } from '@groundwork/cluster';
import type { AlertRule, RuleGroup } from './model.ts';

const ALERTS: Record<BackupKind, string> = { etcd: 'EtcdBackupTooOld', postgres: 'PostgresBackupTooOld', n8n: 'N8nExportTooOld' };

function tooOld(namespace: string, { kind, job, schedule, allowedAgeSeconds: limit }: BackupPlan): AlertRule {
  const alert = ALERTS[kind];
  const series = `kube_cronjob_status_last_successful_time{job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080",namespace="${namespace}",cronjob="${job}"}`;
  const atMinutes = Math.ceil(limit / 60) + 10;
  return {
    alert,
    expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="${namespace}",cronjob="${job}"}) > ${limit}`,
    severity: 'critical',
    summary: 'The last good {{ $labels.cronjob }} backup is too old',
    description: `{{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for more than ${Math.round(limit / 3600)} hours (it runs on "${schedule}").`,
    fires: { series: [[series, `0x${atMinutes}`]], at: `${atMinutes}m`, labels: [{ namespace, cronjob: job }] },
    quiet: { series: [[series, `0+60x${atMinutes}`]], at: `${atMinutes}m` },
  };
}

/** Backups the dr layer takes: each one recent, and no failed backup job. */
export function backupRules(cluster: LoadedCluster): RuleGroup {
  const { dr } = cluster.config.features;
  const rules: AlertRule[] = backupPlan(cluster.config).map((plan) => tooOld(dr.namespace, plan));
  const failed = `kube_job_status_failed{job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080",namespace="${dr.namespace}",job_name="etcd-snapshot-29000000"}`;
  rules.push({
    alert: 'BackupJobFailed',
    expr: `kube_job_status_failed{namespace="${dr.namespace}"} > 0`,
    severity: 'warning',
    summary: 'Backup job {{ $labels.job_name }} failed',
    description: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} failed; its logs are in Loki ({namespace="{{ $labels.namespace }}"}).',
    fires: { series: [[failed, '0 1x5']], at: '5m', labels: [{ job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080', namespace: dr.namespace, job_name: 'etcd-snapshot-29000000' }] },
    quiet: { series: [[failed, '0x5']], at: '5m' },
  });
  return { file: 'backups', name: 'backups', rules };
}

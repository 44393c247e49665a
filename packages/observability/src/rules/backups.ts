import { backupPlan, type BackupKind, type BackupPlan, type LoadedCluster } from '@groundwork/cluster';
import type { AlertRule, RuleGroup } from './model.ts';

const ALERTS: Record<BackupKind, string> = { etcd: 'EtcdBackupTooOld', postgres: 'PostgresBackupTooOld', n8n: 'N8nExportTooOld' };

function tooOld(namespace: string, { kind, job, schedule, allowedAgeSeconds: limit }: BackupPlan): AlertRule {
  // Every app database shares one alert, every app volume another; their cronjob label names the app.
  const alert = kind.startsWith('db-') ? 'AppDatabaseBackupTooOld' : kind.startsWith('vol-') ? 'AppVolumeBackupTooOld' : ALERTS[kind as BackupKind];
  const selector = `{namespace="${namespace}",cronjob="${job}"}`;
  const source = `{job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080",namespace="${namespace}",cronjob="${job}"}`;
  const atMinutes = Math.ceil(limit / 60) + 10;
  return {
    alert,
    // kube-state-metrics reports the last success only once there has been one: until then the CronJob's
    // creation time stands in, so a backup that never succeeded fires once it is older than the allowance.
    expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time${selector} or kube_cronjob_created${selector}) > ${limit}`,
    severity: 'critical',
    summary: 'The last good {{ $labels.cronjob }} backup is too old',
    description: `{{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for more than ${Math.round(limit / 3600)} hours (it runs on "${schedule}"), or never has.`,
    fires: { series: [[`kube_cronjob_created${source}`, `0x${atMinutes}`]], at: `${atMinutes}m`, labels: [{ namespace, cronjob: job }] },
    quiet: { series: [[`kube_cronjob_created${source}`, `0x${atMinutes}`], [`kube_cronjob_status_last_successful_time${source}`, `0+60x${atMinutes}`]], at: `${atMinutes}m` },
  };
}

/** Backups the dr layer takes: each one recent, and no failed backup job. */
export function backupRules(cluster: LoadedCluster): RuleGroup {
  const { dr } = cluster.config.features;
  const rules: AlertRule[] = backupPlan(cluster.config).map((plan) => tooOld(plan.namespace, plan));
  // The Job's Failed condition (its retries are used up), as kube-prometheus alerts: kube_job_status_failed
  // counts failed pods, so a backup whose retry succeeded would fire too.
  const failed = (condition: string) => `kube_job_failed{job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080",namespace="${dr.namespace}",job_name="etcd-snapshot-29000000",condition="${condition}"}`;
  rules.push({
    alert: 'BackupJobFailed',
    expr: `kube_job_failed{namespace="${dr.namespace}",condition="true"} > 0`,
    severity: 'warning',
    summary: 'Backup job {{ $labels.job_name }} failed',
    description: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} failed after its retries; its logs are in VictoriaLogs ({namespace="{{ $labels.namespace }}"} in Grafana Explore).',
    fires: { series: [[failed('true'), '0 1x5'], [failed('false'), '0x5']], at: '5m', labels: [{ job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080', namespace: dr.namespace, job_name: 'etcd-snapshot-29000000', condition: 'true' }] },
    quiet: { series: [[failed('true'), '0x5'], [failed('false'), '1x5']], at: '5m' },
  });
  return { file: 'backups', name: 'backups', rules };
}

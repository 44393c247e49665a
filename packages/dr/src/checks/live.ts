import { BACKUP_JOBS, backupPlan } from '@groundwork/cluster';
import type { KubeObject, LiveCheck } from '@groundwork/kube';

const hours = (seconds: number) => `${(seconds / 3600).toFixed(1)}h`;

interface JobStatus {
  conditions?: Array<{ type: string; status: string; message?: string; reason?: string }>;
}

const failedCondition = (job: KubeObject) => ((job.status as JobStatus | undefined)?.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True');
const created = (object: KubeObject) => Date.parse(String(object.metadata.creationTimestamp ?? ''));

/**
 * Each backup's last good run is younger than its schedule allows (the same limit the alerts use), and
 * its newest run did not fail. A CronJob younger than that limit that has not run yet is only noted.
 */
const backups: LiveCheck = {
  name: 'backups',
  async run(api, { cluster }) {
    const now = Date.now();
    const problems: string[] = [];
    const fine: string[] = [];
    for (const plan of backupPlan(cluster.config)) {
      const cronJob = await api.get({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: plan.job, namespace: plan.namespace } });
      if (!cronJob) {
        problems.push(`${plan.kind}: CronJob ${plan.namespace}/${plan.job} is missing`);
        continue;
      }
      const last = (cronJob.status as { lastSuccessfulTime?: string } | undefined)?.lastSuccessfulTime;
      const age = last ? (now - Date.parse(last)) / 1000 : undefined;
      const jobs = (await api.list('batch/v1', 'Job', { namespace: plan.namespace, labelSelector: `app.kubernetes.io/name=${plan.job}` })).sort((a, b) => created(b) - created(a));
      const failed = jobs[0] ? failedCondition(jobs[0]) : undefined;
      if (failed) problems.push(`${plan.kind}: the newest run ${jobs[0]!.metadata.name} failed (${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}); its logs: kubectl -n ${plan.namespace} logs job/${jobs[0]!.metadata.name} --all-containers`);
      if (age === undefined) {
        const since = (now - created(cronJob)) / 1000;
        if (since > plan.allowedAgeSeconds) problems.push(`${plan.kind}: no good run in the ${hours(since)} since ${plan.job} was created (the schedule allows ${hours(plan.allowedAgeSeconds)})`);
        else fine.push(`${plan.kind} not run yet (created ${hours(since)} ago)`);
      } else if (age > plan.allowedAgeSeconds) {
        problems.push(`${plan.kind}: the last good backup is ${hours(age)} old; "${plan.schedule}" allows ${hours(plan.allowedAgeSeconds)}`);
      } else if (!failed) {
        fine.push(`${plan.kind} ${hours(age)} ago`);
      }
    }
    return problems.length ? { ok: false, detail: problems.join('; ') } : { ok: true, detail: `last good backups: ${fine.join(', ')}` };
  },
};

/** Talos has answered the etcd-snapshot ServiceAccount with its talosconfig Secret (the machine config allows it). */
const talosAccess: LiveCheck = {
  name: 'talos-access',
  async run(api, { cluster }) {
    const namespace = cluster.config.features.dr.namespace;
    const secret = await api.get({ apiVersion: 'v1', kind: 'Secret', metadata: { name: BACKUP_JOBS.etcd, namespace } });
    if (secret) return { ok: true, detail: `Talos issued ${namespace}/${BACKUP_JOBS.etcd} (role os:etcd:backup)` };
    return { ok: false, detail: `Talos has not created the Secret ${namespace}/${BACKUP_JOBS.etcd}: apply talos-config (it allows Talos API access from ${namespace} when dr is on) and check the talos.dev ServiceAccount's status` };
  },
};

export const liveChecks: LiveCheck[] = [backups, talosAccess];

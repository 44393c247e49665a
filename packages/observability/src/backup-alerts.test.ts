import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { backupPlan, loadCluster } from '@groundwork/cluster';
import type { KubeObject } from '@groundwork/kube';
import { scratchDir } from '@groundwork/testkit';
import { programPath, programVersion } from '@groundwork/testkit/programs';
import { addNodes, startControlPlane, startKubeStateMetrics, startPodRunner, testNode, throwawaySpec, type ControlPlane, type PodRunner, type ProcessPod } from '@groundwork/testkit/kube';
import { run } from './checks/tools.ts';
import { configMapData } from './checks/tools.ts';
import { renderedObjects } from './platform.ts';
import { backupRules } from './rules/backups.ts';
import { ruleTests, type AlertRule } from './rules/index.ts';

/**
 * The backup alerts on real series. The real Job and CronJob controllers drive backup Jobs to their end (their
 * pods run for real): the first backup's Job fails and then succeeds on its retry, the last backup's Job fails
 * on every try, and the others have never run. The pinned kube-state-metrics, running on its rendered
 * Deployment as its rendered ServiceAccount, reports them. The rendered backup rules are then evaluated by the pinned promtool on exactly
 * what it reported; only the clock moves (creation time becomes the test's zero) so a day's allowance can pass.
 */
const repo = join(import.meta.dirname, '..', '..', '..');
const cluster = loadCluster(repo, 'pi-fleet');
const NS = cluster.config.features.dr.namespace;
const plans = backupPlan(cluster.config);
const rendered = renderedObjects(cluster);
const KSM_LABELS = 'job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080"';

/** A Job as `kubectl create job --from=cronjob/<name>` makes it, whose pod runs `script`. */
function backupJob(name: string, cronjob: KubeObject, script: string): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cronjob.metadata.name, uid: cronjob.metadata.uid!, controller: true }] },
    spec: {
      backoffLimit: 1,
      template: {
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [{ name: 'backup', image: 'example/backup:1', command: ['sh', '-c', script], volumeMounts: [{ name: 'state', mountPath: '/state' }] }],
          volumes: [{ name: 'state', hostPath: { path: `/var/backup-test/${name}`, type: 'DirectoryOrCreate' } }],
        },
      },
    },
  };
}

interface Sample {
  name: string;
  labels: string;
  value: number;
}

function samples(text: string, names: string[]): Sample[] {
  return text
    .split('\n')
    .map((line) => /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line))
    .filter((m): m is RegExpExecArray => !!m && names.includes(m[1]!))
    .map((m) => ({ name: m[1]!, labels: (m[2] ?? '{}').slice(1, -1), value: Number(m[3]) }));
}

describe('backup alerts on what kube-state-metrics reports for real backup Jobs and CronJobs', () => {
  let plane: ControlPlane;
  let runner: PodRunner;
  let ksm: ProcessPod & { metrics: string };
  let reported: Sample[] = [];
  // The Jobs the test runs belong to CronJobs of the dr namespace (an app volume's archive runs in the app's).
  const inDr = plans.filter((p) => p.namespace === NS);
  const failedJob = `${inDr.at(-1)!.job}-failed`;
  const retriedJob = `${plans[0]!.job}-retried`;

  beforeAll(async () => {
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'backups'), kwok: { leavePods: [{ cel: { expression: `self.metadata.namespace != '${NS}'` } }] } });
    await addNodes(plane.client, [testNode('w-1')]);
    runner = startPodRunner({ client: plane.client, owns: (pod) => pod.metadata.namespace === NS, runtimeFor: () => ({ path: ['/usr/bin', '/bin'] }) });
    const ksmObjects = rendered.filter((o) => (o.kind === 'Namespace' && o.metadata.name === 'observability') || (o.metadata.name === 'kube-state-metrics' && ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Deployment'].includes(o.kind)));
    expect(ksmObjects).toHaveLength(5);
    for (const object of ksmObjects) await plane.client.apply(object, 'test');
    // The test's pods keep their retry state on a node folder, which needs a privileged namespace.
    await plane.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } }, 'test');
    const cronjobs: KubeObject[] = [];
    for (const plan of plans) {
      if (plan.namespace !== NS && !(await plane.client.get('v1', 'Namespace', plan.namespace))) await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: plan.namespace } });
      cronjobs.push(await plane.client.create({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: plan.job, namespace: plan.namespace },
        // Suspended: it must not run on its own during the test; it has simply never succeeded.
        spec: { schedule: plan.schedule, suspend: true, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'backup', image: 'example/backup:1' }] } } } } },
      }));
    }
    await plane.client.create(backupJob(retriedJob, cronjobs[0]!, 'test -e /state/tried && exit 0; touch /state/tried; exit 1'));
    await plane.client.create(backupJob(failedJob, cronjobs[plans.indexOf(inDr.at(-1)!)]!, 'echo "backup failed" >&2; exit 1'));
    const finished = (name: string, type: string) => async () => {
      const job = await plane.client.get('batch/v1', 'Job', name, NS);
      return ((job?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === type && c.status === 'True') ? true : undefined;
    };
    try {
      await plane.client.waitFor(`${retriedJob} to complete on its retry`, finished(retriedJob, 'Complete'), 90_000);
      await plane.client.waitFor(`${failedJob} to fail`, finished(failedJob, 'Failed'), 90_000);
      // The CronJob controller adopted the running Job and records its success.
      await plane.client.waitFor(`${plans[0]!.job}'s last success`, async () => ((await plane.client.get('batch/v1', 'CronJob', plans[0]!.job, NS))?.status as { lastSuccessfulTime?: string } | undefined)?.lastSuccessfulTime, 30_000);
    } catch (error) {
      const jobs = await plane.client.list('batch/v1', 'Job', { namespace: NS });
      throw new Error(`${(error as Error).message}\npods run: ${JSON.stringify(runner.runs)}\njobs: ${JSON.stringify(jobs.map((j) => [j.metadata.name, j.status]))}`);
    }
    ksm = await startKubeStateMetrics(plane);
    const names = ['kube_cronjob_created', 'kube_cronjob_status_last_successful_time', 'kube_job_failed', 'kube_job_status_failed'];
    reported = await plane.client.waitFor('kube-state-metrics to report both Jobs', async () => {
      const list = samples(await (await fetch(ksm.metrics)).text(), names);
      return list.filter((s) => s.name === 'kube_job_status_failed').length >= 2 && list.filter((s) => s.name === 'kube_cronjob_created').length === plans.length ? list : undefined;
    }, 60_000, 500);
  }, 240_000);

  afterAll(async () => {
    await ksm?.stop();
    await runner?.stop();
    await plane?.stop();
  });

  it('reports what the rules must handle: no last success before the first, failed pods on a Job that succeeded, the Failed condition on one that did not', () => {
    const of = (name: string, label: string) => reported.filter((s) => s.name === name && s.labels.includes(label));
    expect(of('kube_cronjob_status_last_successful_time', '').map((s) => s.labels)).toEqual([`namespace="${NS}",cronjob="${plans[0]!.job}"`]);
    expect(of('kube_cronjob_created', '')).toHaveLength(plans.length);
    expect(of('kube_job_status_failed', `job_name="${retriedJob}"`).map((s) => s.value)).toEqual([1]);
    expect(of('kube_job_failed', `job_name="${retriedJob}"`).filter((s) => s.value > 0)).toEqual([]);
    expect(of('kube_job_failed', `job_name="${failedJob}"`).filter((s) => s.value > 0).map((s) => s.labels)).toEqual([expect.stringContaining('condition="true"')]);
    expect(runner.runs.filter((r) => r.pod.startsWith(`${NS}/${retriedJob}`)).map((r) => r.phase).sort()).toEqual(['Failed', 'Succeeded']);
  });

  it('the rendered backup rules, in the pinned promtool: quiet after a retry that succeeded, firing for the Job that failed and, past the allowance, for backups that never succeeded', () => {
    const dir = scratchDir('gw-backup-alerts-');
    mkdirSync(join(dir, 'rules'));
    const rulesFile = configMapData(rendered, 'prometheus-rules')['backups.yaml']!;
    writeFileSync(join(dir, 'rules', 'backups.yaml'), rulesFile);
    // Timestamps count from the CronJobs' creation, so the test's clock can run past each allowance.
    const origin = Math.min(...reported.filter((s) => s.name === 'kube_cronjob_created').map((s) => s.value));
    const seriesFor = (minutes: number) =>
      reported.map((s): [string, string] => [`${s.name}{${KSM_LABELS}${s.labels ? `,${s.labels}` : ''}}`, `${s.name.endsWith('_time') || s.name.endsWith('_created') ? s.value - origin : s.value}x${minutes}`]);
    // Ten minutes on, only the failed Job fires: the first backup succeeded on its retry, the others are young.
    // Past each allowance, every "too old" alert fires: the first backup's last success has aged, the others
    // never had one.
    const rules: AlertRule[] = backupRules(cluster).rules.map((rule) => {
      if (rule.alert === 'BackupJobFailed') {
        const labels = { job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080', namespace: NS, job_name: failedJob, condition: 'true' };
        return { ...rule, fires: { series: seriesFor(10), at: '10m', labels: [labels] }, quiet: undefined };
      }
      const minutes = Number(rule.fires.at.replace('m', ''));
      return { ...rule, fires: { series: seriesFor(minutes), at: `${minutes}m`, labels: rule.fires.labels }, quiet: { series: seriesFor(10), at: '10m' } };
    });
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['EtcdBackupTooOld', 'BackupJobFailed']));
    writeFileSync(join(dir, 'backups.test.yaml'), stringify(ruleTests({ file: 'backups', name: 'backups', rules }, 'rules/backups.yaml')));
    const result = run(programPath('promtool'), ['test', 'rules', 'backups.test.yaml'], dir);
    expect(result.ok, result.output).toBe(true);
  });
});

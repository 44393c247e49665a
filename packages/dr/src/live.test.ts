import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { FakeKubeApi, type KubeObject } from '@groundwork/testkit/kube';
import { runPod } from '@groundwork/testkit/pods';
import { startPostgres, type Postgres } from '@groundwork/testkit/services';
import { main as gwDr } from './dr-cli.ts';
import { main as apply } from './apply.ts';
import { main as verify } from './verify.ts';
import { CLUSTER, kubelet, n8nDatabase, podSpecOf, runtimes, storeAndRender, type Rendered } from '../test/harness.ts';
import { N8N_LIKE_SCHEMA, n8nLikeRows } from '../test/n8n-like.ts';
import type { TestStore } from '../test/s3.ts';

/**
 * The commands that act on a live cluster, against the test API server with a kubelet stand-in that runs
 * the Jobs' pods for real: the drill in a scratch namespace, the database restore that stops and restarts
 * n8n, apply, and live verify's view of the backups.
 */
describe('drills and restores on a live cluster', () => {
  const dir = scratchDir('gw-dr-live-');
  chmodSync(dir, 0o711);
  let store: TestStore;
  let rendered: Rendered;
  let pg: Postgres;
  let fake: FakeKubeApi;
  let env: NodeJS.ProcessEnv;
  let node: ReturnType<typeof kubelet>;
  const psql = (database: string, sql: string) => pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', database, '-Atqc', sql]).stdout.trim();
  const run = (main: (argv: string[]) => Promise<number>, argv: string[]) => runIn(rendered.ws.root, main, argv, env);

  beforeAll(async () => {
    let volume: string;
    ({ store, rendered, volume } = await storeAndRender());
    pg = await startPostgres(join(dir, 'pg'), []);
    n8nDatabase(pg, rendered);
    for (const sql of [N8N_LIKE_SCHEMA, n8nLikeRows(40, 5)]) expect(pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'n8n', '-d', 'n8n', '-v', 'ON_ERROR_STOP=1', '-qc', sql]).status).toBe(0);
    const overrides = { dump: { PGHOST: '127.0.0.1', PGPORT: String(pg.port) }, restore: { PGHOST: '127.0.0.1', PGPORT: String(pg.port) } };
    const backup = await runPod({ pod: podSpecOf(rendered.dr, 'CronJob', 'postgres-backup'), namespace: 'dr', objects: rendered.dr, runtimeFor: runtimes(), claims: { backups: volume }, overrides, scratch: join(dir, 'backup') });
    expect(backup.phase, backup.containers.map((c) => c.log).join('\n')).toBe('Succeeded');

    fake = new FakeKubeApi({ autoReady: false });
    await fake.start();
    fake.readyNodes('pi-cp-1', 'pi-w-1', 'pi-w-2', 'pi-w-3');
    // Talos serves its ServiceAccount kind once the machine config allows API access from Kubernetes.
    fake.serve({ group: 'talos.dev', version: 'v1alpha1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true });
    // Only the restore Job talks to the database, so only it learns where PostgreSQL listens here.
    node = kubelet(fake, { runtimeFor: runtimes(), claims: { backups: volume }, overrides: (job) => (job.metadata.name.startsWith('postgres-restore-') ? overrides : {}) });
    rendered.ws.useKubeconfig(CLUSTER, fake.kubeconfig());
    env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_POLL_MS: '50' });
    // n8n as the n8n layer runs it: three Deployments, rolled out.
    fake.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n8n' } });
    for (const deployment of rendered.n8n.filter((o) => o.kind === 'Deployment')) {
      fake.seed(deployment as Record<string, unknown>, 'groundwork-n8n');
      fake.rollOut(fake.get('apps/v1', 'Deployment', deployment.metadata.name, 'n8n')!);
    }
  }, 300_000);

  afterAll(async () => {
    await fake?.stop();
    await store?.stop();
    pg?.process.kill('SIGINT');
  });

  it('applies the layer: namespace first, the Talos ServiceAccount, the runner, the CronJobs, the volume claim', async () => {
    const result = await run(apply, [`--cluster=${CLUSTER}`]);
    expect(result.code, result.stderr).toBe(0);
    const writes = fake.writes();
    expect(writes.indexOf('Namespace dr')).toBeLessThan(writes.indexOf('CronJob dr/postgres-backup'));
    expect(writes).toEqual(expect.arrayContaining(['ServiceAccount dr/etcd-snapshot', 'ConfigMap dr/dr-runner', 'PersistentVolumeClaim dr/backups', 'Secret dr/backup-s3', 'Secret dr/n8n-database', 'CronJob dr/etcd-snapshot', 'CronJob dr/n8n-export']));
    expect(fake.get('talos.dev/v1alpha1', 'ServiceAccount', 'etcd-snapshot', 'dr')?.spec).toEqual({ roles: ['os:etcd:backup'] });
    const again = await run(apply, [`--cluster=${CLUSTER}`]);
    expect(again.stderr).toMatch(/no changes: all \d+ objects are as rendered/);
  });

  it('drills in a scratch namespace that it deletes afterwards, and reports from the pod', async () => {
    const result = await run(gwDr, ['drill', `--cluster=${CLUSTER}`]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^drill of pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age .*: PASSED$/m);
    expect(result.stdout).toContain('✓ rows: 12 workflows, 4 credentials, 40 executions, 120 migrations');
    const created = fake.writes().filter((w) => w.includes('dr-drill-'));
    expect(created.map((w) => w.replace(/dr-drill-\w+/, 'dr-drill-*'))).toEqual(['Namespace dr-drill-*', 'NetworkPolicy dr-drill-*/default-deny', 'NetworkPolicy dr-drill-*/allow-dns', 'NetworkPolicy dr-drill-*/backup-bucket', 'ConfigMap dr-drill-*/dr-runner', 'Secret dr-drill-*/drill-identity', 'Secret dr-drill-*/backup-s3', 'Job dr-drill-*/drill']);
    expect(fake.writes('DELETE').filter((w) => w.includes('dr-drill-'))).toEqual([expect.stringMatching(/^Namespace dr-drill-\w+$/)]);
    expect(fake.store.list(fake.type('v1', 'Namespace'), undefined).map((n) => n.metadata.name)).not.toContainEqual(expect.stringMatching(/^dr-drill-/));
    const pod = node.runs.at(-1)!;
    expect(pod.containers.map((c) => [c.name, c.code])).toEqual([['fetch', 0], ['restore', 0], ['report', 0]]);
    // The drill reads the bucket only (its namespace cannot mount the volume's claim), and no PostgreSQL outside the pod.
    expect(pod.containers[0]!.env.DR_VOLUME).toBeUndefined();
    expect(pod.containers[1]!.env.PGHOST).toBeUndefined();
  });

  it('restores the database with n8n stopped, starts n8n again, and deletes the identity it brought', async () => {
    const before = psql('n8n', 'select count(*) from execution_entity');
    psql('n8n', 'delete from execution_entity where id > 10; update workflow_entity set name = \'damaged\'');
    expect(psql('n8n', 'select count(*) from execution_entity')).toBe('10');
    const writes = fake.requests.length;
    const result = await run(gwDr, ['restore', 'postgres', `--cluster=${CLUSTER}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(psql('n8n', 'select count(*) from execution_entity')).toBe(before);
    expect(psql('n8n', "select count(*) from workflow_entity where name = 'damaged'")).toBe('0');
    const sequence = fake.requests.slice(writes).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.replace(/-\d{8}t\d{6}/, '-*')}`);
    expect(sequence).toEqual([
      'PATCH /apis/apps/v1/namespaces/n8n/deployments/n8n/scale',
      'PATCH /apis/apps/v1/namespaces/n8n/deployments/n8n-webhook/scale',
      'PATCH /apis/apps/v1/namespaces/n8n/deployments/n8n-worker/scale',
      'PATCH /api/v1/namespaces/dr/secrets/postgres-restore-*-identity',
      'PATCH /apis/batch/v1/namespaces/dr/jobs/postgres-restore-*',
      'DELETE /api/v1/namespaces/dr/secrets/postgres-restore-*-identity',
      'PATCH /apis/apps/v1/namespaces/n8n/deployments/n8n/scale',
      'PATCH /apis/apps/v1/namespaces/n8n/deployments/n8n-webhook/scale',
      'PATCH /apis/apps/v1/namespaces/n8n/deployments/n8n-worker/scale',
    ]);
    const replicas = (name: string) => (fake.get('apps/v1', 'Deployment', name, 'n8n')!.spec as { replicas: number }).replicas;
    expect([replicas('n8n'), replicas('n8n-worker'), replicas('n8n-webhook')]).toEqual([1, 2, 1]);
  });

  it('leaves the database as it was when the restore fails, and still starts n8n', async () => {
    // The n8n role may no longer create tables: pg_restore fails in the middle of its one transaction.
    psql('n8n', 'revoke create on schema public from n8n; alter schema public owner to postgres; update workflow_entity set name = \'kept\' where id = \'wf1\'');
    const result = await run(gwDr, ['restore', 'postgres', `--cluster=${CLUSTER}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the database restore failed and changed nothing: step restore failed \(exit 1\)/);
    expect(psql('n8n', "select name from workflow_entity where id = 'wf1'")).toBe('kept');
    expect((fake.get('apps/v1', 'Deployment', 'n8n-worker', 'n8n')!.spec as { replicas: number }).replicas).toBe(2);
    psql('n8n', 'alter schema public owner to n8n; grant create on schema public to n8n');
  });

  it('live verify reports each backup\'s age from its CronJob, and a failed newest run', async () => {
    const now = Date.now();
    const cronJob = (name: string, hoursAgo: number | undefined) => {
      const live = fake.get('batch/v1', 'CronJob', name, 'dr') as KubeObject;
      fake.setStatus('batch/v1', 'CronJob', name, 'dr', hoursAgo === undefined ? {} : { lastSuccessfulTime: new Date(now - hoursAgo * 3_600_000).toISOString() });
      return live;
    };
    cronJob('etcd-snapshot', 2);
    cronJob('postgres-backup', 3);
    cronJob('n8n-export', 60);
    fake.seed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'etcd-snapshot', namespace: 'dr' }, data: { config: Buffer.from('talosconfig').toString('base64') } });
    fake.seed({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'postgres-backup-29400000', namespace: 'dr', labels: { 'app.kubernetes.io/name': 'postgres-backup' }, creationTimestamp: new Date(now).toISOString() }, spec: {} });
    fake.setStatus('batch/v1', 'Job', 'postgres-backup-29400000', 'dr', { failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] });
    const result = await runIn(rendered.ws.root, verify, [`--cluster=${CLUSTER}`], { ...env, GROUNDWORK_LIVE: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('n8n: the last good backup is 60.0h old; "45 1 * * *" allows 49.0h');
    expect(result.stderr).toContain('postgres: the newest run postgres-backup-29400000 failed (BackoffLimitExceeded: Job has reached the specified backoff limit); its logs: kubectl -n dr logs job/postgres-backup-29400000 --all-containers');
    expect(result.stderr).not.toContain('etcd: the last good');
    expect(result.stderr).not.toContain('Talos has not created');
  });
});

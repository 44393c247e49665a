import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { describeRequest, mutatingRequests, type KubeObject } from '@groundwork/testkit/kube';
import { allObjects, renderComponents } from '@groundwork/kube';
import { components as appsComponents } from '@groundwork/apps';
import { runPod } from '@groundwork/testkit/pods';
import { startPostgres, type Postgres } from '@groundwork/testkit/services';
import { main as gwDr } from './dr-cli.ts';
import { main as apply } from './apply.ts';
import { main as verify } from './verify.ts';
import { CLUSTER, liveCluster, n8nDatabase, podSpecOf, runtimes, storeAndRender, type LiveCluster, type Rendered } from '../test/harness.ts';
import { N8N_LIKE_SCHEMA, n8nLikeRows } from '../test/n8n-like.ts';
import type { TestStore } from '../test/s3.ts';
import { IMAGES, IMAGE_USERS } from './versions.ts';

/**
 * The commands that act on a live cluster, against pi-fleet's own control plane (a real kube-apiserver with its
 * controllers and scheduler, started from the cluster's rendered Talos config, kwok Raspberry Pis): the dr
 * layer's Job pods are run for real by a pod runner and judged by the real Job controller. The drill in a
 * scratch namespace, the database restore that stops and restarts n8n, apply, and live verify.
 */
describe('drills and restores on a live cluster', () => {
  const dir = scratchDir('gw-dr-live-');
  chmodSync(dir, 0o711);
  let store: TestStore;
  let rendered: Rendered;
  let pg: Postgres;
  let live: LiveCluster;
  let env: NodeJS.ProcessEnv;
  const psql = (database: string, sql: string) => pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', database, '-Atqc', sql]).stdout.trim();
  const run = (main: (argv: string[]) => Promise<number>, argv: string[]) => runIn(rendered.ws.root, main, argv, env);
  const client = () => live.plane.client;
  /** What the command under test (user admin) wrote while `work` ran, from the API server's audit log. */
  async function writesDuring<T>(work: () => Promise<T>): Promise<{ result: T; writes: string[] }> {
    const before = live.plane.audit().length;
    const result = await work();
    return { result, writes: mutatingRequests(live.plane.audit().slice(before), 'admin').map(describeRequest) };
  }
  const replicas = async (name: string) => ((await client().get('apps/v1', 'Deployment', name, 'n8n'))!.spec as { replicas: number }).replicas;

  beforeAll(async () => {
    let volume: string;
    ({ store, rendered, volume } = await storeAndRender());
    pg = await startPostgres(join(dir, 'pg'), []);
    n8nDatabase(pg, rendered);
    for (const sql of [N8N_LIKE_SCHEMA, n8nLikeRows(40, 5)]) expect(pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'n8n', '-d', 'n8n', '-v', 'ON_ERROR_STOP=1', '-qc', sql]).status).toBe(0);
    const overrides = { dump: { PGHOST: '127.0.0.1', PGPORT: String(pg.port) }, restore: { PGHOST: '127.0.0.1', PGPORT: String(pg.port) } };
    const backup = await runPod({ pod: podSpecOf(rendered.dr, 'CronJob', 'postgres-backup'), namespace: 'dr', objects: rendered.dr, runtimeFor: runtimes(), claims: { backups: volume }, overrides, scratch: join(dir, 'backup') });
    expect(backup.phase, backup.containers.map((c) => c.log).join('\n')).toBe('Succeeded');

    // Only the restore Job talks to the database, so only it learns where PostgreSQL listens here.
    live = await liveCluster(rendered, { runtimeFor: runtimes(), claims: { backups: volume }, overrides: (pod) => (pod.metadata.name.startsWith('postgres-restore-') ? overrides : {}) });
    rendered.ws.useKubeconfig(CLUSTER, live.plane.kubeconfig());
    env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_POLL_MS: '200' });
    // n8n as the n8n layer runs it: its namespace and three Deployments, rolled out on the kwok nodes.
    for (const object of rendered.n8n.filter((o) => o.kind === 'Namespace' || o.kind === 'Deployment')) await client().apply(object as KubeObject, 'groundwork-n8n');
    // The apps' namespaces, as the apps layer leaves them before dr applies (vault's volume is archived there).
    const apps = allObjects({ components: renderComponents('apps', rendered.cluster, appsComponents(rendered.cluster)) });
    for (const namespace of apps.filter((o) => o.kind === 'Namespace')) await client().apply(namespace, 'groundwork-apps');
    for (const deployment of rendered.n8n.filter((o) => o.kind === 'Deployment')) {
      await client().waitFor(`${deployment.metadata.name} to be available`, async () => {
        const status = (await client().get('apps/v1', 'Deployment', deployment.metadata.name, 'n8n'))?.status as { availableReplicas?: number } | undefined;
        return (status?.availableReplicas ?? 0) > 0 || undefined;
      });
    }
  }, 300_000);

  afterAll(async () => {
    await live?.runner.stop();
    await live?.plane.stop();
    await store?.stop();
    pg?.process.kill('SIGINT');
  });

  it('applies the layer: namespace first, the Talos ServiceAccount, the runner, the CronJobs, the volume claim; a second apply writes nothing', async () => {
    const { result, writes } = await writesDuring(() => run(apply, [`--cluster=${CLUSTER}`]));
    expect(result.code, result.stderr).toBe(0);
    expect(writes.indexOf('patch namespaces dr')).toBeLessThan(writes.indexOf('patch cronjobs.batch dr/postgres-backup'));
    expect(writes).toEqual(expect.arrayContaining(['patch serviceaccounts.talos.dev dr/etcd-snapshot', 'patch configmaps dr/dr-runner', 'patch persistentvolumeclaims dr/backups', 'patch secrets dr/backup-s3', 'patch secrets dr/n8n-database', 'patch cronjobs.batch dr/etcd-snapshot', 'patch cronjobs.batch dr/n8n-export', 'patch cronjobs.batch dr/rss-db-backup', 'patch secrets dr/rss-database']));
    // vault's volume is archived from vault's namespace: the runner, the bucket key and the job go there.
    expect(writes).toEqual(expect.arrayContaining(['patch configmaps vault/dr-runner', 'patch secrets vault/backup-s3', 'patch networkpolicies.networking.k8s.io vault/volume-backup', 'patch cronjobs.batch vault/vault-data-backup']));
    expect((await client().get('talos.dev/v1alpha1', 'ServiceAccount', 'etcd-snapshot', 'dr'))?.spec).toEqual({ roles: ['os:etcd:backup'] });
    const again = await writesDuring(() => run(apply, [`--cluster=${CLUSTER}`]));
    expect(again.result.stderr).toMatch(/no changes: all \d+ objects are as rendered/);
    expect(again.writes).toEqual([]);
  }, 120_000);

  it('drills in a scratch namespace that it deletes afterwards, and reports from the pod', async () => {
    const { result, writes } = await writesDuring(() => run(gwDr, ['drill', `--cluster=${CLUSTER}`]));
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^drill of pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age .*: PASSED$/m);
    expect(result.stdout).toContain('✓ rows: 12 workflows, 4 credentials, 40 executions, 120 migrations');
    const drill = writes.filter((w) => w.includes('dr-drill-')).map((w) => w.replace(/dr-drill-\w+/, 'dr-drill-*'));
    expect(drill).toEqual([
      'patch namespaces dr-drill-*',
      'patch networkpolicies.networking.k8s.io dr-drill-*/default-deny',
      'patch networkpolicies.networking.k8s.io dr-drill-*/allow-dns',
      'patch networkpolicies.networking.k8s.io dr-drill-*/backup-bucket',
      'patch configmaps dr-drill-*/dr-runner',
      'patch secrets dr-drill-*/drill-identity',
      'patch secrets dr-drill-*/backup-s3',
      'patch jobs.batch dr-drill-*/drill',
      'delete namespaces dr-drill-*',
    ]);
    // The namespace controller empties the scratch namespace and removes it.
    await client().waitFor('the drill namespace to be gone', async () => ((await client().list('v1', 'Namespace')).some((n) => n.metadata.name.startsWith('dr-drill-')) ? undefined : true));
    await live.runner.settled();
    const pod = live.runner.runs.filter((r) => r.pod.startsWith('dr-drill-')).at(-1)!;
    expect(pod.containers.map((c) => [c.name, c.code])).toEqual([['fetch', 0], ['restore', 0], ['report', 0]]);
    // The drill reads the bucket only (its namespace cannot mount the volume's claim), and no PostgreSQL outside the pod.
    expect(pod.containers[0]!.env.DR_VOLUME).toBeUndefined();
    expect(pod.containers[1]!.env.PGHOST).toBeUndefined();
  }, 120_000);

  it('restores the database with n8n stopped, starts n8n again, and deletes the identity it brought', async () => {
    const before = psql('n8n', 'select count(*) from execution_entity');
    psql('n8n', 'delete from execution_entity where id > 10; update workflow_entity set name = \'damaged\'');
    expect(psql('n8n', 'select count(*) from execution_entity')).toBe('10');
    const { result, writes } = await writesDuring(() => run(gwDr, ['restore', 'postgres', `--cluster=${CLUSTER}`]));
    expect(result.code, result.stderr).toBe(0);
    expect(psql('n8n', 'select count(*) from execution_entity')).toBe(before);
    expect(psql('n8n', "select count(*) from workflow_entity where name = 'damaged'")).toBe('0');
    expect(writes.map((w) => w.replace(/-\d{8}t\d{6}/, '-*'))).toEqual([
      'patch deployments.apps/scale n8n/n8n',
      'patch deployments.apps/scale n8n/n8n-webhook',
      'patch deployments.apps/scale n8n/n8n-worker',
      'patch secrets dr/postgres-restore-*-identity',
      'patch jobs.batch dr/postgres-restore-*',
      'delete secrets dr/postgres-restore-*-identity',
      'patch deployments.apps/scale n8n/n8n',
      'patch deployments.apps/scale n8n/n8n-webhook',
      'patch deployments.apps/scale n8n/n8n-worker',
    ]);
    expect([await replicas('n8n'), await replicas('n8n-worker'), await replicas('n8n-webhook')]).toEqual([1, 2, 1]);
  }, 120_000);

  it('leaves the database as it was when the restore fails, and still starts n8n', async () => {
    // The n8n role may no longer create tables: pg_restore fails in the middle of its one transaction.
    psql('n8n', 'revoke create on schema public from n8n; alter schema public owner to postgres; update workflow_entity set name = \'kept\' where id = \'wf1\'');
    const result = await run(gwDr, ['restore', 'postgres', `--cluster=${CLUSTER}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the database restore failed and changed nothing: step restore failed \(exit 1\)/);
    expect(psql('n8n', "select name from workflow_entity where id = 'wf1'")).toBe('kept');
    expect(await replicas('n8n-worker')).toBe(2);
    psql('n8n', 'alter schema public owner to n8n; grant create on schema public to n8n');
  }, 120_000);

  it('live verify reports each backup\'s age from its CronJob, and a newest run that really failed', async () => {
    const now = Date.now();
    // What the CronJob controller records after good runs.
    const succeeded = (name: string, hoursAgo: number) => client().setStatus('batch/v1', 'CronJob', name, 'dr', { lastSuccessfulTime: new Date(now - hoursAgo * 3_600_000).toISOString() }, 'cronjob-controller');
    await succeeded('etcd-snapshot', 2);
    await succeeded('postgres-backup', 3);
    await succeeded('n8n-export', 60);
    // What Talos writes for the talos.dev ServiceAccount once it has issued its credentials.
    await client().create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'etcd-snapshot', namespace: 'dr' }, data: { config: Buffer.from('talosconfig').toString('base64') } });
    // A backup run whose pod exits 1: the pod runner runs it, the Job controller marks the Job failed.
    const failing: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'postgres-backup-29400000', namespace: 'dr', labels: { 'app.kubernetes.io/name': 'postgres-backup' } },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'postgres-backup' } },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: IMAGE_USERS.runner, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{ name: 'dump', image: IMAGES.runner, command: ['node', '-e', 'process.exit(1)'], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } } }],
          },
        },
      },
    };
    await client().create(failing);
    await client().waitFor('the failing run to be marked Failed', async () => (((await client().get('batch/v1', 'Job', failing.metadata.name, 'dr'))?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Failed' && c.status === 'True') || undefined);
    const result = await runIn(rendered.ws.root, verify, [`--cluster=${CLUSTER}`], { ...env, GROUNDWORK_LIVE: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('n8n: the last good backup is 60.0h old; "45 1 * * *" allows 49.0h');
    expect(result.stderr).toContain('postgres: the newest run postgres-backup-29400000 failed (BackoffLimitExceeded: Job has reached the specified backoff limit); its logs: kubectl -n dr logs job/postgres-backup-29400000 --all-containers');
    expect(result.stderr).not.toContain('etcd: the last good');
    expect(result.stderr).not.toContain('Talos has not created');
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureN8n, type InstalledN8n } from '@groundwork/n8n/e2e';
import { N8N_SECRETS } from '@groundwork/n8n';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { runPod } from '@groundwork/testkit/pods';
import { startPostgres, type Postgres } from '@groundwork/testkit/services';
import { main as gwDr } from './dr-cli.ts';
import { identitySecret, n8nRestoreJob } from './components/jobs.ts';
import type { S3Client } from './runner/s3.ts';
import { IMAGES } from './versions.ts';
import { CLUSTER, NODE, n8nDatabase, podSpecOf, runtimes, secretValue, stopwatch, storeAndRender, type Rendered } from '../test/harness.ts';
import type { TestStore } from '../test/s3.ts';

/**
 * n8n's own exports, with the real n8n (the image's version, installed from npm like the n8n end-to-end
 * test's): the rendered n8n-export CronJob's pod exports a real instance's workflows and credentials, still
 * encrypted with the instance key; the n8n-restore Job's pod imports them into a fresh instance, where the
 * key from SOPS opens the credentials again. An instance with nothing to export is a good backup, not a failure.
 */
/** Each test runs the real n8n CLI (the first on a fresh database runs every migration): slow on a busy 2-core machine. */
const N8N_CLI_MS = 240_000;

describe(`n8n exports with the real n8n ${IMAGES.n8n.split(':').pop()}`, () => {
  const dir = scratchDir('gw-dr-n8n-');
  chmodSync(dir, 0o711);
  let installed: InstalledN8n;
  let store: TestStore;
  let rendered: Rendered;
  let source: Postgres;
  let fresh: Postgres;
  let client: S3Client;
  let env: NodeJS.ProcessEnv;
  let volume: string;
  const clock = stopwatch('dr n8n exports');
  const timed = clock.timed;

  /** The folder npm installed n8n into (its node_modules is mounted where the image keeps n8n). */
  const installRoot = () => installed.bin.slice(0, installed.bin.indexOf('/node_modules/'));
  /** n8n's CLI on a database, with the key the cluster's Secrets hold (as the n8n pods have it). */
  const n8n = (pg: Postgres, args: string[]) => {
    const home = join(dir, `home-${Math.random().toString(36).slice(2)}`);
    mkdirSync(home);
    const result = spawnSync(NODE, [installed.bin, ...args], {
      encoding: 'utf8',
      timeout: 180_000,
      env: {
        PATH: `${dirname(NODE)}:/usr/bin:/bin`,
        HOME: home,
        N8N_USER_FOLDER: home,
        DB_TYPE: 'postgresdb',
        DB_POSTGRESDB_HOST: '127.0.0.1',
        DB_POSTGRESDB_PORT: String(pg.port),
        DB_POSTGRESDB_DATABASE: 'n8n',
        DB_POSTGRESDB_USER: 'n8n',
        DB_POSTGRESDB_PASSWORD: secretValue(rendered.n8n, 'n8n', N8N_SECRETS.postgres.name, N8N_SECRETS.postgres.n8n),
        N8N_ENCRYPTION_KEY: secretValue(rendered.n8n, 'n8n', N8N_SECRETS.encryptionKey.name, N8N_SECRETS.encryptionKey.key),
        N8N_DIAGNOSTICS_ENABLED: 'false',
      },
    });
    return { code: result.status, log: `${result.stdout}${result.stderr}` };
  };
  const exportPod = (pg: Postgres, name: string) =>
    runPod({
      pod: podSpecOf(rendered.dr, 'CronJob', 'n8n-export'),
      namespace: 'dr',
      objects: rendered.dr,
      runtimeFor: runtimes({ n8nInstall: installRoot() }),
      claims: { backups: volume },
      overrides: { export: { DB_POSTGRESDB_HOST: '127.0.0.1', DB_POSTGRESDB_PORT: String(pg.port) } },
      scratch: join(dir, name),
    });

  beforeAll(async () => {
    installed = await timed('n8n install (0 when reused)', () => ensureN8n(IMAGES.n8n.split(':').pop()!));
    ({ store, rendered, client, volume } = await storeAndRender());
    [source, fresh] = await Promise.all([startPostgres(join(dir, 'source'), []), startPostgres(join(dir, 'fresh'), [])]);
    n8nDatabase(source, rendered);
    n8nDatabase(fresh, rendered);
    env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_DR_VOLUME: volume });
    // A real instance: one workflow, one credential (n8n encrypts its data with the instance key on import).
    writeFileSync(join(dir, 'workflow.json'), JSON.stringify([{ id: 'gwDrBackupFlow01', name: 'Nightly report', active: false, nodes: [{ id: 'n1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} }], connections: {}, settings: {} }]));
    writeFileSync(join(dir, 'credential.json'), JSON.stringify([{ id: 'gwDrCredential01', name: 'Report API', type: 'httpHeaderAuth', data: { name: 'X-Token', value: 'report-api-token-42' } }]));
    const workflow = await timed('n8n import:workflow (with migrations)', async () => n8n(source, ['import:workflow', `--input=${join(dir, 'workflow.json')}`]));
    expect(workflow.code, workflow.log).toBe(0);
    const credential = n8n(source, ['import:credentials', `--input=${join(dir, 'credential.json')}`]);
    expect(credential.code, credential.log).toBe(0);
  }, 900_000);

  afterAll(async () => {
    for (const pg of [source, fresh]) pg?.process.kill('SIGINT');
    await store?.stop();
    clock.print();
  });

  it('counts an instance with nothing in it as a good backup', async () => {
    const run = await timed('export pod, empty instance', () => exportPod(fresh, 'empty'));
    expect(run.phase, run.containers.map((c) => c.log).join('\n')).toBe('Succeeded');
    expect(run.containers[0]!.log).toContain('no workflows in this instance');
    expect(run.containers[0]!.log).toContain('no credentials in this instance');
    expect(run.containers[1]!.log).toContain('checked n8n export, 0 workflows, 0 credentials (encrypted)');
  }, N8N_CLI_MS);

  it('exports the workflows and credentials, the credentials still encrypted with the instance key', async () => {
    const run = await timed('export pod (n8n export ×2, encrypt, upload)', () => exportPod(source, 'export'));
    expect(run.phase, run.containers.map((c) => c.log).join('\n')).toBe('Succeeded');
    expect(run.containers[1]!.log).toContain('checked n8n export, 1 workflow, 1 credential (encrypted)');
    // Both runs are kept: retention keeps the 4 newest whatever the day.
    expect((await client.list(`${CLUSTER}/n8n/`)).map((o) => o.key)).toHaveLength(2);
    const out = join(dir, 'fetched');
    const fetched = await runIn(rendered.ws.root, gwDr, ['fetch', 'n8n', `--cluster=${CLUSTER}`, `--out=${out}`], env);
    expect(fetched.code, fetched.stderr).toBe(0);
    const workflows = JSON.parse(readFileSync(join(out, 'workflows.json'), 'utf8')) as Array<{ id: string; name: string }>;
    expect(workflows.map((w) => [w.id, w.name])).toEqual([['gwDrBackupFlow01', 'Nightly report']]);
    const credentials = readFileSync(join(out, 'credentials.json'), 'utf8');
    expect(JSON.parse(credentials)[0]).toMatchObject({ id: 'gwDrCredential01', name: 'Report API', type: 'httpHeaderAuth', data: expect.stringMatching(/^U2FsdGVkX1/) });
    expect(credentials).not.toContain('report-api-token-42');
  }, N8N_CLI_MS);

  it('imports them into a fresh instance with the restore Job\'s pod, where the key from SOPS opens the credentials', async () => {
    const run = { namespace: 'dr', name: 'n8n-restore-test', at: 'latest' };
    const identity = readFileSync(join(rendered.ws.root, 'clusters', CLUSTER, 'age.key'), 'utf8');
    const job = n8nRestoreJob(rendered.cluster, run);
    const pod = (job.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const restored = await timed('restore pod (fetch, n8n import ×2)', () =>
      runPod({
        pod,
        namespace: 'dr',
        objects: [...rendered.dr, identitySecret(run, identity)],
        runtimeFor: runtimes({ n8nInstall: installRoot() }),
        claims: { backups: volume },
        overrides: { import: { DB_POSTGRESDB_HOST: '127.0.0.1', DB_POSTGRESDB_PORT: String(fresh.port) } },
        scratch: join(dir, 'restore'),
      }),
    );
    expect(restored.phase, restored.containers.map((c) => c.log).join('\n')).toBe('Succeeded');
    const query = (sql: string) => fresh.run(['psql', '-h', fresh.socketDir, '-p', String(fresh.port), '-U', 'postgres', '-d', 'n8n', '-Atc', sql]).stdout.trim();
    expect(query('select name from workflow_entity')).toBe('Nightly report');
    expect(query('select name from credentials_entity')).toBe('Report API');
    const decrypted = n8n(fresh, ['export:credentials', '--all', '--decrypted', `--output=${join(dir, 'decrypted.json')}`]);
    expect(decrypted.code, decrypted.log).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'decrypted.json'), 'utf8'))[0].data).toEqual({ name: 'X-Token', value: 'report-api-token-42' });
  }, N8N_CLI_MS);
});

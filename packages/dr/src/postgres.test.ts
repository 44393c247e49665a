import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from '@groundwork/kit';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { runPod } from '@groundwork/testkit/pods';
import { startPostgres, type Postgres } from '@groundwork/testkit/services';
import { N8N_SECRETS } from '@groundwork/n8n';
import { main as gwDr } from './dr-cli.ts';
import { S3Client } from './runner/s3.ts';
import { CLUSTER, n8nDatabase, podSpecOf, runtimes, secretValue, stopwatch, storeAndRender, type Rendered } from '../test/harness.ts';
import { N8N_LIKE_SCHEMA, n8nLikeRows } from '../test/n8n-like.ts';
import type { TestStore } from '../test/s3.ts';

/**
 * The n8n database's whole round trip on real tools: the rendered postgres-backup CronJob's pod (pg_dump in
 * the PostgreSQL image's place, the runner on Node 24) dumps a real PostgreSQL, encrypts the dump and stores
 * it in a bucket that checks signatures and in the volume; gw-dr fetches, drills and restores it into a
 * fresh database; what comes back is what went in. Damaged and foreign backups are refused untouched.
 */

const clock = stopwatch('dr database round trip');
const timed = clock.timed;

describe('the n8n database: rendered backup job → bucket and volume → drill → restore into a fresh database', () => {
  const dir = scratchDir('gw-dr-pg-');
  chmodSync(dir, 0o711);
  let store: TestStore;
  let rendered: Rendered;
  let pg: Postgres;
  let volume: string;
  let client: S3Client;
  let env: NodeJS.ProcessEnv;
  const objectsIn = async (prefix: string) => (await client.list(prefix)).map((o) => o.key);
  /** Every table's rows, in a stable order, as text: equal text means equal content. */
  const contents = (database: string) => {
    const tables = pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', database, '-Atc', "select tablename from pg_tables where schemaname = 'public' order by 1"]).stdout.trim().split('\n').filter(Boolean);
    return Object.fromEntries(tables.map((t) => [t, pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', database, '-Atc', `select md5(string_agg(x::text, '|' order by x::text)) || ' ' || count(*) from "${t}" x`]).stdout.trim()]));
  };

  beforeAll(async () => {
    ({ store, rendered, client, volume } = await timed('render n8n and dr', () => storeAndRender()));
    env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_DR_VOLUME: volume });
    pg = await timed('PostgreSQL start', () => startPostgres(join(dir, 'pg'), []));
    n8nDatabase(pg, rendered);
    for (const sql of [N8N_LIKE_SCHEMA, n8nLikeRows(500, 30)]) {
      const result = pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'n8n', '-d', 'n8n', '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
      expect(result.status, result.stderr).toBe(0);
    }
  }, 300_000);

  afterAll(async () => {
    pg?.process.kill('SIGINT');
    await store?.stop();
    clock.print();
  });

  it('runs the postgres-backup pod as rendered: dumped, checked, encrypted, stored in the bucket and the volume', async () => {
    const run = await timed('backup pod (pg_dump, encrypt, upload)', () =>
      runPod({
        pod: podSpecOf(rendered.dr, 'CronJob', 'postgres-backup'),
        namespace: 'dr',
        objects: rendered.dr,
        runtimeFor: runtimes(),
        claims: { backups: volume },
        // Where PostgreSQL listens is the one thing that differs on this machine.
        overrides: { dump: { PGHOST: '127.0.0.1', PGPORT: String(pg.port) } },
        scratch: join(dir, 'backup-pod'),
      }),
    );
    expect(run.phase, run.containers.map((c) => `${c.name}: ${c.log}`).join('\n')).toBe('Succeeded');
    expect(run.containers.map((c) => c.name)).toEqual(['dump', 'store']);
    const [dump, storeStep] = run.containers;
    expect(dump!.env.PGUSER).toBe('n8n');
    expect(dump!.env.PGDATABASE).toBe('n8n');
    expect(storeStep!.log).toMatch(/checked pg_dump archive, \d+ bytes/);
    expect(storeStep!.log).toMatch(/encrypted to 1 age recipient/);
    const [key] = await objectsIn(`${CLUSTER}/postgres/`);
    expect(key).toMatch(/^pi-fleet\/postgres\/pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age$/);
    const onVolume = readdirSync(join(volume, CLUSTER, 'postgres'));
    expect(onVolume).toEqual([key!.split('/').pop()]);
    const bytes = readFileSync(join(volume, CLUSTER, 'postgres', onVolume[0]!));
    expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(bytes.includes(Buffer.from('PGDMP'))).toBe(false);
    expect(bytes.includes(Buffer.from('owner@pi.home.arpa'))).toBe(false);
    expect(store.refused).toEqual([]);
  });

  it('lists the backup in both targets and drills it on this machine: n8n\'s tables back, with their rows', async () => {
    const listed = await runIn(rendered.ws.root, gwDr, ['list', `--cluster=${CLUSTER}`, '--kind=postgres'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/postgres +\d+ {2}s3:\/\/pi-fleet-backups {2}pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age/);
    expect(listed.stdout).toContain(`postgres`);
    expect(listed.stdout.trim().split('\n')).toHaveLength(2);
    const drill = await timed('local drill (fetch, decrypt, restore, check)', () => runIn(rendered.ws.root, gwDr, ['drill', `--cluster=${CLUSTER}`, '--local'], env));
    expect(drill.code, `${drill.stdout}\n${drill.stderr}`).toBe(0);
    expect(drill.stdout).toMatch(/^drill of pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age \(taken .*, restored in \d+s\): PASSED$/m);
    expect(drill.stdout).toContain('✓ tables: 7 tables restored, n8n\'s 6 core tables among them');
    expect(drill.stdout).toContain('✓ rows: 12 workflows, 4 credentials, 500 executions, 120 migrations');
    expect(drill.stdout).toMatch(/✓ executions: the newest execution in the backup started 0\.\dh before it was taken/);
  });

  it('restores into a fresh database with exactly the content that was dumped', async () => {
    pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-qc', 'create database fresh owner n8n']);
    const password = secretValue(rendered.n8n, 'n8n', N8N_SECRETS.postgres.name, N8N_SECRETS.postgres.n8n);
    const url = `postgresql://n8n:${encodeURIComponent(password)}@127.0.0.1:${pg.port}/fresh`;
    const restored = await timed('restore into a fresh database', () => runIn(rendered.ws.root, gwDr, ['restore', 'postgres', `--cluster=${CLUSTER}`, `--database-url=${url}`], env));
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).not.toContain(password);
    const before = contents('n8n');
    expect(Object.keys(before)).toHaveLength(7);
    expect(contents('fresh')).toEqual(before);
  });

  it('refuses a damaged backup and one encrypted to another key, and leaves the database as it was', async () => {
    const [key] = await objectsIn(`${CLUSTER}/postgres/`);
    const good = join(dir, 'good.age');
    await client.getFile(key!, good);
    const later = (minutes: number) => key!.replace(/\d{8}T\d{6}Z/, (s) => new Date(Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`) + minutes * 60_000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z'));
    // A newer object whose middle was changed in the bucket.
    const damaged = Buffer.from(readFileSync(good));
    damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
    writeFileSync(join(dir, 'damaged.age'), damaged);
    await client.putFile(later(1), join(dir, 'damaged.age'));
    pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-qc', 'create database untouched owner n8n']);
    const password = secretValue(rendered.n8n, 'n8n', N8N_SECRETS.postgres.name, N8N_SECRETS.postgres.n8n);
    const url = `postgresql://n8n:${encodeURIComponent(password)}@127.0.0.1:${pg.port}/untouched`;
    const refused = await runIn(rendered.ws.root, gwDr, ['restore', 'postgres', `--cluster=${CLUSTER}`, `--database-url=${url}`], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age is damaged or incomplete and was not restored/);
    expect(contents('untouched')).toEqual({});
    // A backup encrypted to someone else's key, newer still.
    const foreign = join(dir, 'foreign.age');
    expect(execFile('age', ['-r', 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p', '-o', foreign, good]).status).toBe(0);
    await client.putFile(later(2), foreign);
    const drill = await runIn(rendered.ws.root, gwDr, ['drill', `--cluster=${CLUSTER}`, '--local'], env);
    expect(drill.code).toBe(1);
    expect(drill.stdout).toMatch(/drill \(this machine\): FAILED: s3:\/\/pi-fleet-backups\/pi-fleet\/postgres\/pi-fleet-postgres-\d{8}T\d{6}Z\.dump\.age is not encrypted to this cluster's key/);
    // Asking for the good one by name still works.
    const named = await runIn(rendered.ws.root, gwDr, ['drill', `--cluster=${CLUSTER}`, '--local', `--at=${key!.split('/').pop()}`], env);
    expect(named.code, named.stdout).toBe(0);
  });
});

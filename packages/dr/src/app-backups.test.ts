import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from '@groundwork/kit';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { runPod } from '@groundwork/testkit/pods';
import { startPostgres, type Postgres } from '@groundwork/testkit/services';
import { main as gwDr } from './dr-cli.ts';
import { CLUSTER, podSpecOf, runtimes, secretValue, storeAndRender, type Backdrop } from '../test/harness.ts';
import { SECRETS } from './names.ts';

/**
 * The backups of pi-fleet's own apps on real tools. rss has `database: { engine: postgres }`: the rendered
 * rss-db-backup CronJob's pod dumps a real PostgreSQL as the app's role, with dr's copy of the app's password,
 * the runner encrypts and stores it as kind db-rss, and gw-dr fetches it back. vault has a volume: the
 * rendered vault-data-backup pod, in vault's namespace, archives the claim with tar as the app's user and the
 * runner stores it as vol-vault-data in the bucket; gw-dr fetches it and it unpacks to the same files.
 */
describe('the apps\' backups: rendered dump and archive jobs → bucket (and volume) → gw-dr fetch → restored', () => {
  const dir = scratchDir('gw-dr-appdb-');
  chmodSync(dir, 0o711);
  let backdrop: Backdrop;
  let pg: Postgres;
  const psql = (database: string, user: string, sql: string) => pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql]);

  beforeAll(async () => {
    backdrop = await storeAndRender();
    pg = await startPostgres(join(dir, 'pg'), []);
    // What the PostgreSQL image's entrypoint makes of POSTGRES_USER, _PASSWORD and _DB on its first start.
    const password = secretValue(backdrop.rendered.dr, 'dr', SECRETS.appDatabase('rss'), 'password');
    for (const sql of [`create role rss login password '${password}'`, 'create database rss owner rss']) expect(psql('postgres', 'postgres', sql).status).toBe(0);
    const rows = psql('rss', 'postgres', "set role rss; create table feeds (id serial primary key, url text not null); insert into feeds (url) select 'https://example.org/' || g || '.xml' from generate_series(1, 250) g");
    expect(rows.status, rows.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    pg?.process.kill('SIGINT');
    await backdrop?.store.stop();
  });

  it('dumps the database as the app role, checks, encrypts and stores it as db-rss in the bucket and the volume', async () => {
    const run = await runPod({
      pod: podSpecOf(backdrop.rendered.dr, 'CronJob', 'rss-db-backup'),
      namespace: 'dr',
      objects: backdrop.rendered.dr,
      runtimeFor: runtimes(),
      claims: { backups: backdrop.volume },
      // Where PostgreSQL listens is the one thing that differs on this machine.
      overrides: { dump: { PGHOST: '127.0.0.1', PGPORT: String(pg.port) } },
      scratch: join(dir, 'backup-pod'),
    });
    expect(run.phase, run.containers.map((c) => `${c.name}: ${c.log}`).join('\n')).toBe('Succeeded');
    const [dump, store] = run.containers;
    expect({ user: dump!.env.PGUSER, database: dump!.env.PGDATABASE }).toEqual({ user: 'rss', database: 'rss' });
    expect(store!.log).toMatch(/checked pg_dump archive, \d+ bytes/);
    const keys = (await backdrop.client.list(`${CLUSTER}/db-rss/`)).map((o) => o.key);
    expect(keys).toEqual([expect.stringMatching(/^pi-fleet\/db-rss\/pi-fleet-db-rss-\d{8}T\d{6}Z\.dump\.age$/)]);
    expect(readdirSync(join(backdrop.volume, CLUSTER, 'db-rss'))).toEqual([keys[0]!.split('/').pop()]);
  });

  it('gw-dr lists and fetches db-rss, and pg_restore brings every row back', async () => {
    const env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_DR_VOLUME: backdrop.volume });
    const listed = await runIn(backdrop.rendered.ws.root, gwDr, ['list', `--cluster=${CLUSTER}`], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/db-rss\s+\d+\s+.*pi-fleet-db-rss-\d{8}T\d{6}Z\.dump\.age/);
    const out = join(dir, 'rss.dump');
    const fetched = await runIn(backdrop.rendered.ws.root, gwDr, ['fetch', 'db-rss', `--cluster=${CLUSTER}`, `--out=${out}`, '--from=volume'], env);
    expect(fetched.code, fetched.stderr).toBe(0);
    chmodSync(out, 0o644);
    expect(psql('postgres', 'postgres', 'create database restored').status).toBe(0);
    const restored = pg.run(['pg_restore', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '--no-owner', '--exit-on-error', '--dbname=restored', out]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(psql('restored', 'postgres', 'select count(*), max(url) from feeds').stdout.trim()).toBe('250|https://example.org/99.xml');
    const refused = await runIn(backdrop.rendered.ws.root, gwDr, ['restore', 'db-rss', `--cluster=${CLUSTER}`], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('gw-dr fetch db-rss');
  });

  it('archives an app volume from its namespace as the app user, 0600 files included, and gw-dr fetches the same files back', async () => {
    // The claim as vault leaves it: files of its user (65532), one readable by it alone, in a subfolder.
    const claim = join(dir, 'vault-data');
    mkdirSync(join(claim, 'attachments'), { recursive: true });
    writeFileSync(join(claim, 'db.sqlite3'), Buffer.alloc(300_000, 7));
    writeFileSync(join(claim, 'rsa_key.pem'), 'not really a key\n', { mode: 0o600 });
    writeFileSync(join(claim, 'attachments', 'note.txt'), 'hello\n');
    for (const path of ['', 'attachments', 'db.sqlite3', 'rsa_key.pem', 'attachments/note.txt']) chownSync(join(claim, path), 65532, 65532);
    chmodSync(join(claim, 'rsa_key.pem'), 0o600);
    const run = await runPod({
      pod: podSpecOf(backdrop.rendered.dr, 'CronJob', 'vault-data-backup'),
      namespace: 'vault',
      objects: backdrop.rendered.dr,
      runtimeFor: runtimes(),
      claims: { 'vault-data': claim },
      scratch: join(dir, 'archive-pod'),
    });
    expect(run.phase, run.containers.map((c) => `${c.name}: ${c.log}`).join('\n')).toBe('Succeeded');
    expect(run.containers.map((c) => c.name)).toEqual(['archive', 'store']);
    expect(run.containers[1]!.log).toMatch(/checked volume archive, 5 entries, \d+ bytes/);
    const keys = (await backdrop.client.list(`${CLUSTER}/vol-vault-data/`)).map((o) => o.key);
    expect(keys).toEqual([expect.stringMatching(/^pi-fleet\/vol-vault-data\/pi-fleet-vol-vault-data-\d{8}T\d{6}Z\.tgz\.age$/)]);

    const env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_DR_VOLUME: backdrop.volume });
    const out = join(dir, 'vault.tgz');
    const fetched = await runIn(backdrop.rendered.ws.root, gwDr, ['fetch', 'vol-vault-data', `--cluster=${CLUSTER}`, `--out=${out}`], env);
    expect(fetched.code, fetched.stderr).toBe(0);
    const unpacked = join(dir, 'unpacked');
    mkdirSync(unpacked);
    expect(execFile('tar', ['--extract', '--gzip', `--file=${out}`, `--directory=${unpacked}`]).status).toBe(0);
    for (const path of ['db.sqlite3', 'rsa_key.pem', 'attachments/note.txt']) expect(readFileSync(join(unpacked, path)).equals(readFileSync(join(claim, path))), path).toBe(true);
  });
});

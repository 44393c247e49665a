import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster, type LoadedCluster } from '@groundwork/cluster';
import { allObjects, imageTag, podTemplateOf, renderComponents, type KubeObject } from '@groundwork/kube';
import { decryptManifest, sopsSecretSource } from '@groundwork/secrets-sops';
import { scratchDir } from '@groundwork/testkit';
import { runPod, type PodRun, type Runtime } from '@groundwork/testkit/pods';
import { programPath, programVersion } from '@groundwork/testkit/programs';
import { SANDBOX } from '@groundwork/testkit/sandbox';
import { freePort, startPostgres, until, type Postgres } from '@groundwork/testkit/services';
import { components } from './platform.ts';

/**
 * The example apps of clusters/pi-fleet/apps/ run as their rendered pods would run them: the real Caddy and
 * the real Miniflux, built at the versions the app files pin, with the rendered command, environment (Secrets
 * decrypted from the repository's SOPS files), files and writable folders, as the rendered user on a read-only
 * root (testkit's pod runner). Only where they listen and where the database is differ on this machine.
 */

const repo = join(import.meta.dirname, '..', '..', '..');
type Container = { env: Array<{ name: string; value?: string }>; readinessProbe: { httpGet: { path: string } } };
const containerOf = (object: KubeObject) => (podTemplateOf(object)!.spec as { containers: Container[] }).containers[0]!;
/** The program version an image runs: its tag without the base image's suffix. */
const versionOf = (image: string) => imageTag(image).replace(/-alpine$/, '');

describe.runIf(SANDBOX.ok)('the pi-fleet example apps, run by their real programs on the rendered pods', () => {
  let cluster: LoadedCluster;
  let objects: KubeObject[];
  const deployment = (name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
  const secret = (namespace: string, name: string, key: string) => {
    const found = objects.find((o) => o.kind === 'Secret' && o.metadata.namespace === namespace && o.metadata.name === name);
    const data = { ...(found?.stringData as Record<string, string>) };
    for (const [k, v] of Object.entries((found?.data ?? {}) as Record<string, string>)) data[k] = Buffer.from(v, 'base64').toString('utf8');
    if (data[key] === undefined) throw new Error(`no ${namespace}/${name} ${key}`);
    return data[key]!;
  };
  /** The image's programs: the binary built from the pinned module, on PATH, as the image's entrypoint. */
  const runtime = (program: string): Runtime => ({ path: [dirname(programPath(program))], entrypoint: [program] });

  /** Starts the pod as a server; `stop` sends SIGTERM and returns how it ended. */
  function serve(name: string, overrides: Record<string, Record<string, string>>, hosts: Record<string, string> = {}) {
    const controller = new AbortController();
    const pod = podTemplateOf(deployment(name))!.spec;
    const ended = runPod({ pod, namespace: deployment(name).metadata.namespace!, objects, runtimeFor: () => runtime(name === 'home' ? 'caddy' : 'miniflux'), overrides, hosts, scratch: scratchDir(`gw-app-${name}-`), signal: controller.signal, timeoutMs: 240_000 });
    let finished: PodRun | undefined;
    void ended.then((run) => (finished = run));
    return {
      get exited() {
        return finished;
      },
      async stop(): Promise<PodRun> {
        controller.abort();
        return ended;
      },
    };
  }

  const get = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
    return { status: response.status, text: await response.text() };
  };
  /** The rendered readiness probe, asked the way the kubelet asks it. */
  const probePath = (name: string) => containerOf(deployment(name)).readinessProbe.httpGet.path;

  beforeAll(async () => {
    cluster = loadCluster(repo, 'pi-fleet');
    objects = allObjects({ components: renderComponents('apps', cluster, components(cluster)) });
    const { secrets } = await sopsSecretSource.declared(repo, cluster, 'apps');
    for (const s of secrets) objects.push(await decryptManifest(s.data, cluster, `${s.namespace}/${s.name}`));
  });

  it('pins the programs the tests build at the images the app files name', () => {
    const image = (name: string) => cluster.config.apps!.find((a) => a.name === name)!.image;
    expect(programVersion('caddy').replace(/^v/, '')).toBe(versionOf(image('home')));
    expect(programVersion('miniflux').replace(/^v/, '')).toBe(versionOf(image('rss')));
  });

  it('home: Caddy reads the rendered Caddyfile, answers its probe and the page, and serves metrics, as uid 65532 on a read-only root', async () => {
    const pod = serve('home', {});
    try {
      const ready = await until('Caddy to answer its readiness probe', 60_000, async () => {
        if (pod.exited) throw new Error(`caddy exited: ${pod.exited.containers.map((c) => c.log).join('\n')}`);
        return (await get(`http://127.0.0.1:8080${probePath('home')}`).catch(() => undefined))?.status === 200 ? true : undefined;
      });
      expect(ready).toBe(true);
      const page = await get('http://127.0.0.1:8080/');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<h1>Home</h1>');
      const annotations = podTemplateOf(deployment('home'))!.annotations;
      const metrics = await get(`http://127.0.0.1:${annotations['prometheus.io/port']}${annotations['prometheus.io/path']}`);
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^# TYPE go_goroutines gauge$/m);
    } finally {
      const run = await pod.stop();
      expect(run.containers[0]!.log).not.toMatch(/permission denied|read-only file system/i);
    }
  });

  describe('rss: Miniflux on its database', () => {
    let pg: Postgres;
    beforeAll(async () => {
      pg = await startPostgres(scratchDir('gw-rss-pg-'), []);
      // What the PostgreSQL image's entrypoint does on its first start with POSTGRES_USER, _PASSWORD and _DB.
      const env = Object.fromEntries(containerOf(objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'rss-postgres')!).env.map((e) => [e.name, e.value]));
      const password = secret('rss', 'rss-postgres', 'password');
      for (const sql of [`create role "${env.POSTGRES_USER}" login password '${password}'`, `create database "${env.POSTGRES_DB}" owner "${env.POSTGRES_USER}"`]) {
        const created = pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
        expect(created.status, created.stderr).toBe(0);
      }
    }, 120_000);
    afterAll(() => {
      pg?.process.kill('SIGINT');
    });

    it('migrates its database through the rendered DATABASE_URL, creates the admin from the SOPS secret, answers its probe, and keeps metrics to the pod network', async () => {
      const port = await freePort();
      const rendered = containerOf(deployment('rss')).env.find((e) => e.name === 'DATABASE_URL')!.value!;
      expect(rendered).toBe('postgres://rss:$(PGPASSWORD)@rss-postgres.rss.svc:5432/rss?sslmode=disable');
      // The database's address is the only thing that differs: the same URL, this machine's port.
      const pod = serve('rss', { rss: { LISTEN_ADDR: `127.0.0.1:${port}`, PGPORT: String(pg.port), DATABASE_URL: rendered.replace(':5432/', `:${pg.port}/`) } }, { 'rss-postgres.rss.svc': '127.0.0.1' });
      try {
        await until('Miniflux to answer its readiness probe', 120_000, async () => {
          if (pod.exited) throw new Error(`miniflux exited: ${pod.exited.containers.map((c) => c.log).join('\n')}`);
          return (await get(`http://127.0.0.1:${port}${probePath('rss')}`).catch(() => undefined))?.status === 200 ? true : undefined;
        });
        const admin = `Basic ${Buffer.from(`admin:${secret('rss', 'rss', 'admin-password')}`).toString('base64')}`;
        const me = await get(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: admin } });
        expect(me.status).toBe(200);
        expect(JSON.parse(me.text)).toMatchObject({ username: 'admin', is_admin: true });
        const tables = pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'rss', '-Atc', "select count(*) from pg_tables where schemaname = 'public' and tableowner = 'rss'"]);
        expect(Number(tables.stdout.trim())).toBeGreaterThan(5);
        // METRICS_ALLOWED_NETWORKS names the pod network (where Prometheus scrapes from): a client outside it, this
        // machine's loopback, is refused with a 404 and a log line; a forged X-Real-Ip changes nothing, since no
        // reverse proxy is trusted.
        expect((await get(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
        expect((await get(`http://127.0.0.1:${port}/metrics`, { headers: { 'x-real-ip': '10.244.2.17', 'x-forwarded-for': '10.244.2.17' } })).status).toBe(404);
      } finally {
        const run = await pod.stop();
        expect(run.containers[0]!.log).toContain('Authentication failed while accessing the metrics endpoint');
      }
    });
  });
});

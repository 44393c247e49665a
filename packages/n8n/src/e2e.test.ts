import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, formatDuration } from '@groundwork/kit';
import { loadCluster, type LoadedCluster } from '@groundwork/cluster';
import { parseQuantity } from '@groundwork/kube';
import { METRIC_CATALOG } from '@groundwork/observability';
import { runIn, scratchDir, scratchWorkspace } from '@groundwork/testkit';
import { GRACE_SECONDS, SHUTDOWN_SECONDS } from './config/env.ts';
import { PGDATA } from './config/postgres.ts';
import { VALKEY_DATA } from './config/valkey.ts';
import { ensureN8n, type InstalledN8n } from './e2e/install.ts';
import { httpRequest, multipart, startN8nIngress, type N8nIngress } from './e2e/ingress.ts';
import { runN8n, startN8n, waitReady, type N8nProcess, type ProcessOptions } from './e2e/processes.ts';
import { RenderedLayerView, type RenderedContainer } from './e2e/rendered.ts';
import { expand } from '@groundwork/testkit/pods';
import { SANDBOX } from '@groundwork/testkit/sandbox';
import { freePort, startPostgres, startRedis, stopProcess, until, type Postgres, type Queue } from '@groundwork/testkit/services';
import { programVersion } from '@groundwork/testkit/programs';
import { startControlPlane, throwawaySpec, traefikServiceName, type ControlPlane } from '@groundwork/testkit/kube';
import { ECHO, FAILING, FORM, MCP, PUBLISHED, WAIT, WORKFLOWS } from './e2e/workflows.ts';
import { main as generate } from './generate.ts';
import { SECRETS } from './names.ts';
import { N8N_VERSION, tagOf } from './versions.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
const CLUSTER = 'pi-fleet';

/** The only variables the test sets itself: where things listen on this one host instead of in the cluster. */
const LOCATION = ['DB_POSTGRESDB_HOST', 'DB_POSTGRESDB_PORT', 'QUEUE_BULL_REDIS_HOST', 'QUEUE_BULL_REDIS_PORT', 'N8N_PORT', 'QUEUE_HEALTH_CHECK_PORT', 'N8N_RUNNERS_BROKER_PORT'];

const timings: Array<[string, number]> = [];
const time = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const value = await step();
  timings.push([what, performance.now() - started]);
  return value;
};

describe(`n8n ${N8N_VERSION} booted on the configuration rendered for ${CLUSTER}`, () => {
  const dir = scratchDir('gw-n8n-e2e-');
  // PostgreSQL runs as its own user and keeps its data below this folder.
  chmodSync(dir, 0o711);
  let cluster: LoadedCluster;
  let view: RenderedLayerView;
  let installed: InstalledN8n;
  let pg: Postgres;
  let queue: Queue;
  let ingress: N8nIngress;
  let plane: ControlPlane;
  const processes: Record<'main' | 'worker' | 'webhook', N8nProcess> = {} as never;
  const ports: Record<string, number> = {};
  let host: string;
  const overridden: Record<string, string[]> = {};

  /** The rendered container's environment, with only the network locations changed for this host. */
  const environment = (name: string, container: RenderedContainer, location: Record<string, string>) => {
    const env = { ...view.environment(container), ...location };
    overridden[name] = Object.keys(location);
    return env;
  };
  const options = (name: string, container: RenderedContainer, location: Record<string, string>, args = container.args ?? []): ProcessOptions => ({
    name,
    bin: installed.bin,
    args,
    env: environment(name, container, location),
    home: join(dir, name, 'home'),
    tmp: join(dir, name, 'tmp'),
    dir,
  });
  const services = () => ({ DB_POSTGRESDB_HOST: '127.0.0.1', DB_POSTGRESDB_PORT: String(pg.port), QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(queue.port) });
  const psql = (user: string, password: string, database: string, sql: string) =>
    execFile('psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { env: { ...process.env, PGPASSWORD: password } });

  beforeAll(async () => {
    // Render exactly as `nx run n8n:generate --cluster=pi-fleet` does, in a copy of the workspace.
    const ws = scratchWorkspace({}, { n8n: `export { default } from ${JSON.stringify(join(import.meta.dirname, 'secrets.ts'))};\n` });
    cpSync(join(repo, 'clusters', CLUSTER), join(ws.root, 'clusters', CLUSTER), { recursive: true, filter: (src) => !src.includes('/rendered') });
    cpSync(join(repo, '.sops.yaml'), join(ws.root, '.sops.yaml'));
    const rendered = await runIn(ws.root, generate, [`--cluster=${CLUSTER}`]);
    expect(rendered.code, rendered.stderr).toBe(0);
    cluster = loadCluster(ws.root, CLUSTER);
    view = await RenderedLayerView.read(ws.root, cluster, 'n8n');
    host = cluster.config.features.n8n.host ?? `n8n.${cluster.config.domain}`;

    installed = await time('n8n install (0 when reused)', () => ensureN8n(tagOf(view.container('Deployment', 'n8n').image)));

    const postgres = view.container('StatefulSet', 'postgres');
    pg = await time('PostgreSQL start', () => startPostgres(join(dir, 'postgres'), postgres.args ?? []));
    const script = join(dir, 'init.sh');
    writeFileSync(script, view.configMapValue('postgres-init', 'create-n8n-role.sh'));
    // What the image's entrypoint does on an empty data directory: its defaults, the container's environment, the socket.
    const init = execFile('sh', [script], { env: { ...process.env, ...view.environment(postgres), POSTGRES_USER: 'postgres', POSTGRES_DB: 'postgres', PGHOST: pg.socketDir, PGPORT: String(pg.port) } });
    expect(init.status, init.stderr.toString()).toBe(0);

    const valkey = view.container('StatefulSet', 'valkey');
    const config = join(dir, 'valkey.conf');
    mkdirSync(join(dir, 'valkey'));
    // The data volume's mount point becomes a folder here (Redis reads `dir` before its command-line options).
    writeFileSync(config, view.configMapValue('valkey-config', 'valkey.conf').replace(`dir ${VALKEY_DATA}\n`, `dir ${join(dir, 'valkey')}\n`));
    const command = (valkey.command ?? []).map((part) => expand(part, view.environment(valkey))).map((part) => (part === 'valkey-server' ? 'redis-server' : part.endsWith('/valkey.conf') ? config : part));
    queue = await time('Redis start', async () => startRedis([...command, '--port', String(await freePort()), '--bind', '127.0.0.1'], view.secretValue(SECRETS.valkey.name, SECRETS.valkey.key)));

    for (const name of ['main', 'worker', 'webhook', 'mainBroker', 'workerBroker', 'webhookBroker', 'workerHealth']) ports[name] = await freePort();
    const mainContainer = view.container('Deployment', 'n8n');
    // The first CLI command runs the migrations; workflows are published before main starts, which registers their webhooks.
    writeFileSync(join(dir, 'workflows.json'), JSON.stringify(WORKFLOWS));
    const cli = (args: string[]) => runN8n(options('cli', mainContainer, { ...services(), N8N_PORT: String(ports.main), N8N_RUNNERS_BROKER_PORT: String(ports.mainBroker) }, args));
    const imported = await time('import (with migrations)', () => cli(['import:workflow', `--input=${join(dir, 'workflows.json')}`]));
    expect(imported.code, imported.log).toBe(0);
    for (const workflow of PUBLISHED) expect((await cli(['publish:workflow', `--id=${workflow.id}`])).code).toBe(0);

    processes.main = startN8n(options('main', mainContainer, { ...services(), N8N_PORT: String(ports.main), N8N_RUNNERS_BROKER_PORT: String(ports.mainBroker) }));
    processes.worker = startN8n(options('worker', view.container('Deployment', 'n8n-worker'), { ...services(), N8N_PORT: String(ports.worker), QUEUE_HEALTH_CHECK_PORT: String(ports.workerHealth), N8N_RUNNERS_BROKER_PORT: String(ports.workerBroker) }));
    processes.webhook = startN8n(options('webhook', view.container('Deployment', 'n8n-webhook'), { ...services(), N8N_PORT: String(ports.webhook), N8N_RUNNERS_BROKER_PORT: String(ports.webhookBroker) }));
    await time('main, worker and webhook ready', () =>
      Promise.all([
        waitReady(processes.main, `http://127.0.0.1:${ports.main}/healthz/readiness`),
        waitReady(processes.worker, `http://127.0.0.1:${ports.workerHealth}/healthz/readiness`),
        waitReady(processes.webhook, `http://127.0.0.1:${ports.webhook}/healthz/readiness`),
      ]),
    );
    // Main registers the published workflows' webhooks in the database shortly after it reports ready.
    const paths = PUBLISHED.map((w) => `'${w.path}'`).join(', ');
    const registered = () => psql('n8n', view.secretValue(SECRETS.postgres.name, SECRETS.postgres.n8n), 'n8n', `select count(distinct "webhookPath") from webhook_entity where "webhookPath" in (${paths})`).stdout.toString().trim();
    await time('webhooks registered by main', () =>
      until('main to register the published webhooks', 60_000, () => (registered() === String(PUBLISHED.length) ? true : undefined)).catch((error: Error) => {
        throw new Error(`${error.message}: ${psql('n8n', view.secretValue(SECRETS.postgres.name, SECRETS.postgres.n8n), 'n8n', 'select "workflowId", "webhookPath", method from webhook_entity').stdout.toString()}\n${processes.main.log().slice(-3000)}`);
      }),
    );
    // The rendered Ingress and Services on a real API server, routed by Traefik's own provider and router.
    plane = await time('control plane for the Ingress', () => startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'e2e'), kwok: false }));
    const n8nServices = view.objects.filter((o) => o.kind === 'Service' && ['n8n', 'n8n-webhook'].includes(o.metadata.name));
    ingress = await startN8nIngress(plane, view.find('Ingress', 'n8n'), n8nServices, { n8n: ports.main!, 'n8n-webhook': ports.webhook! });
  }, 1_200_000);

  afterAll(async () => {
    await ingress?.router.stop();
    await plane?.stop();
    await Promise.all(Object.values(processes).map((p) => p.stop(10_000)));
    if (queue) await queue.stop();
    if (pg) await stopProcess(pg.process, 30_000);
    const summary = [`n8n ${installed?.version} from ${installed?.bin}; read-only root: ${SANDBOX.ok ? 'yes' : 'no'} (${SANDBOX.why})`, ...timings.map(([what, ms]) => `  ${what.padEnd(34)} ${formatDuration(ms)}`)];
    console.log(summary.join('\n'));
  }, 120_000);

  const call = (path: string, body: unknown) => httpRequest(ingress, { path, host, body });
  const WEBHOOK_SERVICE = traefikServiceName('n8n', 'n8n-webhook', 5678);
  const MAIN_SERVICE = traefikServiceName('n8n', 'n8n', 5678);
  const n8nSql = (sql: string) => psql('n8n', view.secretValue(SECRETS.postgres.name, SECRETS.postgres.n8n), 'n8n', sql).stdout.toString().trim();
  /** The status of the workflow's latest execution, once it is one of `statuses`. */
  const executionOf = (workflowId: string, statuses: string[]) =>
    until(`an execution of ${workflowId} to be ${statuses.join(' or ')}`, 60_000, () => {
      const [id, status] = n8nSql(`select id, status from execution_entity where "workflowId" = '${workflowId}' order by id desc limit 1`).split('|');
      return id && statuses.includes(status!) ? { id, status: status! } : undefined;
    });

  it('runs each process with the rendered environment, changing only where things listen', () => {
    for (const [name, keys] of Object.entries(overridden)) expect(keys.filter((k) => !LOCATION.includes(k)), name).toEqual([]);
    const worker = view.environment(view.container('Deployment', 'n8n-worker'));
    const main = view.environment(view.container('Deployment', 'n8n'));
    expect(worker.N8N_ENCRYPTION_KEY).toBe(main.N8N_ENCRYPTION_KEY);
    expect(main.N8N_DISABLE_PRODUCTION_MAIN_PROCESS).toBe('true');
    expect(view.container('Deployment', 'n8n-worker').args).toEqual(['worker', `--concurrency=${cluster.config.features.n8n.concurrency}`]);
  });

  it('answers a production webhook through the Ingress: the webhook processor queues it, the worker runs it', async () => {
    const answer = await time('webhook round trip', () => call(`/webhook/${ECHO.path}`, { hello: 'groundwork' }));
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ ok: true, got: { hello: 'groundwork' } });
    expect(ingress.hits.get(WEBHOOK_SERVICE)).toBe(1);
    const enqueued = /Enqueued execution (\d+)/.exec(processes.webhook.log());
    expect(enqueued, processes.webhook.log()).not.toBeNull();
    expect(processes.worker.log()).toContain(`Worker finished execution ${enqueued![1]}`);
    expect(processes.main.log()).not.toContain('Enqueued execution');
    const row = psql('n8n', view.secretValue(SECRETS.postgres.name, SECRETS.postgres.n8n), 'n8n', `select mode, status from execution_entity where id = '${enqueued![1]}'`);
    expect(row.stdout.toString().trim()).toBe('webhook|success');
  });

  it('routes the editor and test webhooks to main, and main takes no production webhooks itself', async () => {
    const settings = await httpRequest(ingress, { path: '/rest/settings', host });
    expect(settings.status).toBe(200);
    expect((await call(`/webhook-test/${ECHO.path}`, {})).status).toBe(404);
    expect(ingress.hits.get(MAIN_SERVICE)).toBe(2);
    const direct = await fetch(`http://127.0.0.1:${ports.main}/webhook/${ECHO.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(direct.status).not.toBe(200);
  });

  it('serves a form through the Ingress from the webhook processors, and its submission runs on the worker', async () => {
    const page = await httpRequest(ingress, { path: `/form/${FORM.path}`, host });
    expect(page.status, page.text.slice(0, 300)).toBe(200);
    expect(page.headers['x-traefik-service']).toBe(WEBHOOK_SERVICE);
    expect(page.text).toContain('groundwork sign-up');
    const form = multipart({ 'field-0': 'Ada' });
    const submitted = await httpRequest(ingress, { path: `/form/${FORM.path}`, host, body: form.body, contentType: form.contentType });
    expect(submitted.status, submitted.text.slice(0, 300)).toBe(200);
    expect((await executionOf(FORM.id, ['success', 'error', 'crashed'])).status).toBe('success');
  });

  it('resumes a waiting execution through its resume URL on the Ingress', async () => {
    const started = await call(`/webhook/${WAIT.path}`, { step: 1 });
    expect(started.status, started.text).toBe(200);
    // n8n signs the resume URL and builds it on the public URL the rendered WEBHOOK_URL names.
    const resumeUrl = new URL((JSON.parse(started.text) as { resumeUrl: string }).resumeUrl);
    expect(resumeUrl.host).toBe(host);
    const waiting = await executionOf(WAIT.id, ['waiting']);
    expect(resumeUrl.pathname).toBe(`/webhook-waiting/${waiting.id}`);
    const resumed = await call(`${resumeUrl.pathname}${resumeUrl.search}`, { approved: true });
    expect(resumed.status, resumed.text.slice(0, 300)).toBe(200);
    expect(resumed.headers['x-traefik-service']).toBe(WEBHOOK_SERVICE);
    expect((await executionOf(WAIT.id, ['success', 'error', 'crashed'])).status).toBe('success');
  });

  it('answers an MCP client through the Ingress: the server trigger on the webhook processors completes the initialize handshake', async () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'groundwork-e2e', version: '1' } } };
    const answer = await httpRequest(ingress, { path: `/mcp/${MCP.path}`, host, body: initialize, headers: { accept: 'application/json, text/event-stream' } });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(answer.headers['x-traefik-service']).toBe(WEBHOOK_SERVICE);
    expect(answer.text).toContain('"serverInfo"');
    expect(answer.headers['mcp-session-id']).toBeDefined();
  });

  it('exports every n8n metric the observability layer\'s alerts and dashboard read', async () => {
    expect((await call(`/webhook/${FAILING.path}`, {})).status).toBe(500);
    const names = new Set<string>();
    for (const url of [`http://127.0.0.1:${ports.main}/metrics`, `http://127.0.0.1:${ports.workerHealth}/metrics`, `http://127.0.0.1:${ports.webhook}/metrics`]) {
      const text = await (await fetch(url)).text();
      for (const line of text.split('\n')) if (line && !line.startsWith('#')) names.add(line.split(/[{ ]/)[0]!);
    }
    expect(METRIC_CATALOG.n8n!.metrics.filter((m) => !names.has(m))).toEqual([]);
  });

  it('keeps n8n to its own database: the role is no superuser and cannot reach other databases', () => {
    const password = view.secretValue(SECRETS.postgres.name, SECRETS.postgres.n8n);
    expect(psql('n8n', password, 'n8n', 'select rolsuper, rolcreatedb, rolcreaterole, rolreplication from pg_roles where rolname = current_user').stdout.toString().trim()).toBe('f|f|f|f');
    expect(Number(psql('n8n', password, 'n8n', "select count(*) from pg_tables where schemaname = 'public' and tableowner = 'n8n'").stdout.toString())).toBeGreaterThan(20);
    const other = psql('n8n', password, 'postgres', 'select 1');
    expect(other.status).not.toBe(0);
    expect(other.stderr.toString()).toContain('permission denied for database "postgres"');
    expect(psql('n8n', 'not-the-password', 'n8n', 'select 1').stderr.toString()).toContain('password authentication failed');
  });

  it('protects the queue with the rendered password, keeps every key, and its probe passes', () => {
    const cli = (env: NodeJS.ProcessEnv, ...args: string[]) => execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(queue.port), ...args], { env: { ...process.env, ...env } });
    expect(cli({ REDISCLI_AUTH: '' }, 'ping').stdout.toString()).toContain('NOAUTH');
    const auth = { REDISCLI_AUTH: view.secretValue(SECRETS.valkey.name, SECRETS.valkey.key) };
    expect(cli(auth, 'config', 'get', 'maxmemory-policy').stdout.toString()).toContain('noeviction');
    expect(cli(auth, 'config', 'get', 'appendonly').stdout.toString()).toContain('yes');
    const valkey = view.container('StatefulSet', 'valkey');
    const probe = valkey.readinessProbe!.exec!.command.map((part) => part.replaceAll('valkey-cli', 'redis-cli').replace('-p 6379', `-p ${queue.port}`));
    const env = view.environment(valkey);
    expect(execFile(probe[0]!, probe.slice(1), { env: { ...process.env, ...env } }).status).toBe(0);
    expect(execFile(probe[0]!, probe.slice(1), { env: { ...process.env, ...env, REDISCLI_AUTH: 'wrong' } }).status).not.toBe(0);
  });

  it('refuses to start a worker whose encryption key differs from the one that encrypted the instance', async () => {
    const worker = view.container('Deployment', 'n8n-worker');
    const wrong = options('wrong-key-worker', worker, { ...services(), N8N_PORT: String(await freePort()), QUEUE_HEALTH_CHECK_PORT: String(await freePort()), N8N_RUNNERS_BROKER_PORT: String(await freePort()) });
    wrong.env.N8N_ENCRYPTION_KEY = `${wrong.env.N8N_ENCRYPTION_KEY}-not-the-same`;
    const result = await runN8n(wrong, 120_000);
    expect(result.code).not.toBe(0);
    expect(result.log).toMatch(/cannot be read with this instance encryption key/);
  });

  it('fits the rendered memory: the start-up peak below the limits, idle use settling below the requests', async () => {
    const rows: string[] = [];
    for (const [name, deployment] of [['main', 'n8n'], ['worker', 'n8n-worker'], ['webhook', 'n8n-webhook']] as const) {
      const { requests, limits } = view.container('Deployment', deployment).resources;
      const request = parseQuantity(requests.memory);
      // Node gives memory back lazily after start-up: wait for the idle figure (bounded).
      const settled = await until(`${name} to settle below its memory request`, 120_000, () => {
        const now = processes[name].memory();
        return now.rss < request ? now : undefined;
      }).catch(() => processes[name].memory());
      rows.push(`${name}: ${Math.round(settled.rss / 2 ** 20)}Mi idle, ${Math.round(settled.peak / 2 ** 20)}Mi peak; request ${requests.memory}, limit ${limits.memory}`);
      expect(settled.rss, rows.at(-1)).toBeLessThan(request);
      expect(settled.peak, rows.at(-1)).toBeLessThan(parseQuantity(limits.memory));
    }
    console.log(`memory (process and task runner):\n  ${rows.join('\n  ')}`);
  }, 400_000);

  it('shuts down within n8n\'s own timeout, well inside the pod\'s grace period, and PostgreSQL stops the fast way', async () => {
    expect(GRACE_SECONDS).toBeGreaterThan(SHUTDOWN_SECONDS);
    for (const process of Object.values(processes)) {
      const stopped = await process.stop(GRACE_SECONDS * 1000);
      timings.push([`${process.name} stop after SIGTERM`, stopped.ms]);
      expect(stopped.killed, process.name).toBe(false);
      expect(stopped.code, `${process.name} exit code`).toBe(0);
      expect(stopped.ms, process.name).toBeLessThan((SHUTDOWN_SECONDS + 5) * 1000);
    }
    const preStop = view.container('StatefulSet', 'postgres').lifecycle!.preStop!.exec!.command.map((part) => part.replace(PGDATA, pg.dataDir));
    const exited = new Promise((resolve) => pg.process.once('exit', resolve));
    const result = pg.run([join(pg.bin, preStop[0]!), ...preStop.slice(1)]);
    expect(result.status, result.stderr).toBe(0);
    await exited;
  });
});

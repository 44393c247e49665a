import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { KubeApi, LiveCheck } from '@groundwork/kube';
import { exampleCluster, scratchDir } from '@groundwork/testkit';
import { freePort } from '@groundwork/testkit/services';
import { programPath } from '@groundwork/testkit/programs';
import { startProgram, statusOf, waitUntil, type Program } from '@groundwork/testkit/kube';
import { CATALOG } from './catalog.ts';
import { configMapData } from './checks/tools.ts';
import { observabilityLiveChecks } from './checks/live.ts';
import { POD_LOGS } from './config/log-shipper-config.ts';
import { LOG_DATA } from './components/victoria-logs.ts';
import { dashboards } from './dashboards/index.ts';
import { renderedObjects } from './platform.ts';
import { IMAGES, tagOf } from './versions.ts';

/**
 * Logs end to end on the real programs at the pinned versions: container log files in the CRI format the
 * kubelet writes on Talos, and JSON lines in the format Talos's machined sends (machine.logging, KmsgLogConfig),
 * read by the OpenTelemetry Collector with the rendered configuration and stored by VictoriaLogs with the
 * rendered arguments. Only addresses and folders are pointed at the test's own.
 */

const cluster = exampleCluster('pi-fleet');
const NODE = 'pi-w-1';
const objects = renderedObjects(cluster);
const shipperConfig = parse(configMapData(objects, 'log-shipper-config')['config.yaml']!) as Record<string, any>;
const storeArgs: string[] = (objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'victoria-logs')!.spec as any).template.spec.containers[0].args;

interface Row {
  _msg: string;
  _time: string;
  _stream: string;
  [field: string]: string;
}

/** A CRI log line as containerd writes it: time, stream, F (full) or P (partial, continued on the next line), text. */
const cri = (time: Date, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string) => `${time.toISOString().replace('Z', '000001Z')} ${stream} ${tag} ${text}\n`;

describe('container and Talos logs through the rendered log shipper into the rendered log store', () => {
  const dir = scratchDir('gw-logs-');
  const pods = join(dir, 'pods');
  const worker = join(pods, 'n8n_n8n-worker-7c9f_1b0e2f4a-0000-4000-8000-000000000001', 'worker');
  const own = join(pods, 'observability-agents_log-shipper-x2kq_1b0e2f4a-0000-4000-8000-000000000002', 'otel-collector');
  let store: Program;
  let shipper: Program | undefined;
  let storeUrl = '';
  let talosPort = 0;
  let health = 0;
  let metrics = 0;
  const now = new Date();

  const query = async (logsql: string): Promise<Row[]> => {
    const res = await fetch(`${storeUrl}/select/logsql/query?query=${encodeURIComponent(logsql)}&start=1h`);
    const text = await res.text();
    if (!res.ok) throw new Error(`VictoriaLogs answered ${res.status} for ${logsql}: ${text}`);
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);
  };
  const rowsFor = async (logsql: string, count: number): Promise<Row[]> => {
    let rows: Row[] = [];
    await waitUntil(`${count} lines for ${logsql}`, store, 60_000, async () => (rows = await query(logsql)).length >= count, 500);
    return rows;
  };

  async function startShipper(): Promise<Program> {
    // The rendered configuration with the folders and addresses of this test.
    const config = structuredClone(shipperConfig);
    const file = config.receivers.filelog;
    file.include = file.include.map((p: string) => p.replace(POD_LOGS, pods));
    file.exclude = file.exclude.map((p: string) => p.replace(POD_LOGS, pods));
    config.extensions.file_storage.directory = join(dir, 'state');
    config.extensions.health_check.endpoint = config.extensions.health_check.endpoint.replace(/:\d+$/, `:${health}`);
    config.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port = metrics;
    config.receivers['tcplog/talos'].listen_address = config.receivers['tcplog/talos'].listen_address.replace(/:\d+$/, `:${talosPort}`);
    config.exporters.otlphttp.logs_endpoint = config.exporters.otlphttp.logs_endpoint.replace(/^http:\/\/[^/]+/, storeUrl);
    writeFileSync(join(dir, 'shipper.yaml'), stringify(config));
    const program = startProgram('otelcol', programPath('otelcol'), [`--config=${join(dir, 'shipper.yaml')}`], join(dir, 'shipper.log'), { ...process.env, NODE_NAME: NODE, NODE_IP: '127.0.0.1' });
    await waitUntil('the log shipper to be healthy', program, 30_000, async () => (await statusOf(`http://127.0.0.1:${health}/`)) === 200, 250);
    return program;
  }

  beforeAll(async () => {
    mkdirSync(worker, { recursive: true });
    mkdirSync(own, { recursive: true });
    mkdirSync(join(dir, 'state'));
    [talosPort, health, metrics] = [await freePort(), await freePort(), await freePort()];
    const storePort = await freePort();
    storeUrl = `http://127.0.0.1:${storePort}`;
    expect(storeArgs).toEqual(expect.arrayContaining([`-storageDataPath=${LOG_DATA}`, expect.stringMatching(/^-httpListenAddr=/)]));
    const args = storeArgs.map((a) => a.replace(`-storageDataPath=${LOG_DATA}`, `-storageDataPath=${join(dir, 'vlogs')}`).replace(/^-httpListenAddr=.*/, `-httpListenAddr=127.0.0.1:${storePort}`));
    store = startProgram('victoria-logs', programPath('victoria-logs'), args, join(dir, 'victoria-logs.log'));
    await waitUntil('VictoriaLogs to start', store, 30_000, async () => (await statusOf(`${storeUrl}/health`)) === 200, 250);

    const t = (s: number) => new Date(now.getTime() - 60_000 + s * 1000);
    writeFileSync(
      join(worker, '0.log'),
      cri(t(1), 'stdout', 'F', '{"level":"info","msg":"worker started","concurrency":10}') +
        cri(t(2), 'stdout', 'P', 'a long line the runtime split: first half, ') +
        cri(t(2), 'stdout', 'F', 'second half') +
        cri(t(3), 'stderr', 'F', 'Error: connect ECONNREFUSED 10.43.0.10:5432'),
    );
    writeFileSync(join(own, '0.log'), cri(t(1), 'stderr', 'F', 'the shipper complaining about itself'));
    shipper = await startShipper();
  }, 90_000);

  afterAll(async () => {
    await shipper?.stop();
    await store?.stop();
  });

  it('runs the versions the rendered images pin', () => {
    const version = (program: string, flag: string) => spawnSync(programPath(program), [flag], { encoding: 'utf8' }).stdout;
    expect(version('victoria-logs', '-version')).toContain(`victoria-logs-${tagOf(IMAGES.victoriaLogs)}`);
    expect(version('otelcol', '--version')).toContain(`version ${tagOf(IMAGES.otelCollector)}`);
  });

  it('stores each container line as written, with namespace, pod, container and node as its stream', async () => {
    const rows = await rowsFor('{namespace="n8n", container="worker"}', 3);
    expect(rows.map((r) => r._msg).sort()).toEqual(
      ['{"level":"info","msg":"worker started","concurrency":10}', 'a long line the runtime split: first half, second half', 'Error: connect ECONNREFUSED 10.43.0.10:5432'].sort(),
    );
    for (const row of rows) {
      expect(row).toMatchObject({ namespace: 'n8n', pod: 'n8n-worker-7c9f', container: 'worker', node: NODE });
      expect(row._stream).toBe(`{container="worker",namespace="n8n",node="${NODE}",pod="n8n-worker-7c9f"}`);
    }
    expect(rows.find((r) => r._msg.startsWith('Error'))!['log.iostream']).toBe('stderr');
    // The line's own time, not the time it was read.
    expect(new Date(rows.find((r) => r._msg.includes('worker started'))!._time).getTime()).toBe(now.getTime() - 59_000);
  }, 90_000);

  it("stores Talos's service and kernel lines from loopback, with the service and node as their stream", async () => {
    const talosTime = new Date(now.getTime() - 30_000).toISOString().replace('Z', '123456Z');
    const lines = [
      { msg: '[talos] service[kubelet](Running): Health check successful', 'talos-level': 'info', 'talos-service': 'kubelet', 'talos-time': talosTime },
      { clock: 6252819, facility: 'user', msg: '[talos] task startAllServices (1/1): waiting for 6 services\n', priority: 'warning', seq: 711, 'talos-level': 'warn', 'talos-time': talosTime },
    ];
    await new Promise<void>((resolve, reject) => {
      const socket = connect(talosPort, '127.0.0.1', () => socket.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''), resolve));
      socket.on('error', reject);
    });
    const [kubelet] = await rowsFor('{service="kubelet"}', 1);
    expect(kubelet).toMatchObject({ _msg: lines[0]!.msg, service: 'kubelet', node: NODE, _stream: `{node="${NODE}",service="kubelet"}` });
    expect(kubelet!._time).toBe(talosTime);
    const [kernel] = await rowsFor('{service="kernel"}', 1);
    expect(kernel).toMatchObject({ service: 'kernel', node: NODE, facility: 'user' });
    expect(kernel!._msg.trim()).toBe(lines[1]!.msg.trim());
  }, 90_000);

  it('reports what it received and sent in the metrics Prometheus scrapes', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    const value = (name: string, labels = '') => Number(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    // Every line written above was received and sent: 3 container lines (4 in the file, two joined), 2 Talos lines.
    expect(value('otelcol_receiver_accepted_log_records', 'receiver="filelog"')).toBe(3);
    expect(value('otelcol_receiver_accepted_log_records', 'receiver="tcplog/talos"')).toBe(2);
    expect(value('otelcol_exporter_sent_log_records')).toBe(5);
    for (const name of CATALOG['log-shipper']!.metrics) expect(text, name).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    const storeMetrics = await (await fetch(`${storeUrl}/metrics`)).text();
    const rss = (t: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(t)?.[1]) / 2 ** 20;
    console.log(`log shipper RSS ${rss(text, 'otelcol_process_memory_rss').toFixed(0)} MiB; VictoriaLogs RSS ${rss(storeMetrics, 'process_resident_memory_bytes').toFixed(0)} MiB`);
  }, 30_000);

  it("leaves out the shipper's own lines, and after a restart sends only what is new", async () => {
    await rowsFor('{namespace="n8n"}', 3);
    expect(await query('{namespace="observability-agents"}')).toEqual([]);
    await shipper!.stop();
    appendFileSync(join(worker, '0.log'), cri(new Date(now.getTime() - 10_000), 'stdout', 'F', 'written while the shipper was away'));
    shipper = await startShipper();
    const rows = await rowsFor('{namespace="n8n"}', 4);
    await new Promise((r) => setTimeout(r, 4_000));
    expect((await query('{namespace="n8n"}')).length).toBe(4);
    expect(rows.map((r) => r._msg)).toContain('written while the shipper was away');
  }, 120_000);

  it('answers every log query the dashboards make, and the live check reads the nodes that sent logs', async () => {
    const logQueries = dashboards(cluster).flatMap((d) => d.rows.flatMap((r) => r.panels.filter((p) => p.datasource === 'logs').flatMap((p) => p.queries.map((q) => q.expr))));
    expect(logQueries.length).toBeGreaterThan(0);
    for (const expr of logQueries) await query(expr.replaceAll('$namespace', 'n8n'));
    expect((await query('{namespace="n8n", container="worker"}')).length).toBeGreaterThan(0);
    const errors = logQueries.find((q) => /error/i.test(q))!;
    expect((await query(errors)).map((r) => r._msg)).toContain('Error: connect ECONNREFUSED 10.43.0.10:5432');

    const api = { proxyGet: async (_ns: string, _svc: string, _port: number, path: string) => {
      const res = await fetch(`${storeUrl}${path}`);
      return { status: res.status, body: await res.text() };
    } } as unknown as KubeApi;
    const check = observabilityLiveChecks.find((c) => c.name === 'logs') as LiveCheck;
    const others = cluster.config.nodes.map((n) => n.name).filter((n) => n !== NODE);
    expect(await check.run(api, { cluster } as never)).toEqual({ ok: false, detail: `no logs from ${others.join(', ')} in the last 15 minutes` });
  }, 60_000);

});

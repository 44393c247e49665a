import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadCluster } from '@groundwork/cluster';
import type { KubeObject } from '@groundwork/kube';
import { CATALOG, metricNames } from './catalog.ts';
import { checkAlertmanager } from './checks/amtool.ts';
import { observabilityStaticChecks } from './checks/static.ts';
import { run } from './checks/tools.ts';
import { dashboardJson, dashboards } from './dashboards/index.ts';
import { renderedObjects } from './platform.ts';
import { IMAGES, tagOf } from './versions.ts';
import { programVersion } from '@groundwork/testkit/programs';
import { ruleFile, ruleGroups, ruleTests } from './rules/index.ts';

/**
 * The observability layer against the real Prometheus tools: promtool and amtool on what is rendered, and
 * Prometheus, Alertmanager and node-exporter themselves, running with the rendered rules and routes: the pinned
 * versions, built from their Go modules (first on PATH, see tools/test/pinned-tools.ts).
 */
const repo = join(import.meta.dirname, '..', '..', '..');
const cluster = loadCluster(repo, 'pi-fleet');
const objects = (): KubeObject[] => renderedObjects(cluster);
const configMap = (list: KubeObject[], name: string) => list.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)!.data as Record<string, string>;
const scratch = () => mkdtempSync(join(tmpdir(), 'gw-obs-test-'));
const staticCheck = (name: string) => observabilityStaticChecks.find((c) => c.name === name)!;

describe('the tools the tests run', () => {
  it('are the versions the rendered images pin: promtool, Prometheus, amtool, node_exporter and kube-state-metrics built from their modules', () => {
    const version = (command: string) => `${run(command, ['--version'], scratch()).output}`;
    expect(version('promtool')).toContain(`version ${tagOf(IMAGES.prometheus).replace(/^v/, '')} `);
    expect(version('prometheus')).toContain(`version ${tagOf(IMAGES.prometheus).replace(/^v/, '')} `);
    expect(version('amtool')).toContain(`version ${tagOf(IMAGES.alertmanager).replace(/^v/, '')} `);
    expect(version('alertmanager')).toContain(`version ${tagOf(IMAGES.alertmanager).replace(/^v/, '')} `);
    expect(version('node_exporter')).toContain(`version ${tagOf(IMAGES.nodeExporter).replace(/^v/, '')} `);
    expect(programVersion('kube-state-metrics')).toBe(tagOf(IMAGES.kubeStateMetrics));
  });
});

describe('rules under promtool', () => {
  it('every alert has a case that fires and one that stays quiet (but the Watchdog), and all pass', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'rules'));
    let alerts = 0;
    for (const group of ruleGroups(cluster)) {
      for (const rule of group.rules) {
        expect(rule.fires.labels.length, rule.alert).toBeGreaterThan(0);
        if (rule.alert !== 'Watchdog') expect(rule.quiet, `${rule.alert} needs a quiet case`).toBeDefined();
        alerts++;
      }
      writeFileSync(join(dir, 'rules', `${group.file}.yaml`), stringify(ruleFile(group)));
      writeFileSync(join(dir, `${group.file}.test.yaml`), stringify(ruleTests(group, `rules/${group.file}.yaml`)));
      const result = run('promtool', ['test', 'rules', `${group.file}.test.yaml`], dir);
      expect(result.ok, result.output).toBe(true);
    }
    // 37 of the platform's, AppDatabaseBackupTooOld for the rss app's database, AppVolumeBackupTooOld for vault's volume.
    expect(alerts).toBe(39);
  });

  it('fail when a rule stops matching its bad series', () => {
    const dir = scratch();
    const [group] = ruleGroups(cluster);
    const broken = { ...group!, rules: group!.rules.map((r) => (r.alert === 'NodeMemoryHigh' ? { ...r, expr: r.expr.replace('> 0.9', '> 0.99') } : r)) };
    writeFileSync(join(dir, 'nodes.yaml'), stringify(ruleFile(broken)));
    writeFileSync(join(dir, 'nodes.test.yaml'), stringify(ruleTests(broken, 'nodes.yaml')));
    const result = run('promtool', ['test', 'rules', 'nodes.test.yaml'], dir);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('alertname: NodeMemoryHigh');
  });
});

describe('verify\'s checks of the rendered output', () => {
  it('pass for the Raspberry Pi example and say what they proved', async () => {
    const list = objects();
    const results = await Promise.all(observabilityStaticChecks.map((c) => c.run({ root: repo, cluster, objects: list })));
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(results.flatMap((r) => r.notes).join('\n')).toMatch(/39 alerts fire and stay quiet as their tests say, 10 discovery jobs find the expected targets/);
  });

  it('find a scrape job whose relabelling no longer reaches the nodes', async () => {
    const list = objects();
    const config = configMap(list, 'prometheus-config');
    config['prometheus.yml'] = config['prometheus.yml']!.replace("replacement: $1:9100", "replacement: $1:9101");
    const { problems } = await staticCheck('prometheus').run({ root: repo, cluster, objects: list });
    expect(problems).toEqual(['job node-exporter scrapes [192.168.1.21:9101, 192.168.1.22:9101, 192.168.1.23:9101, 192.168.1.24:9101], expected [192.168.1.21:9100, 192.168.1.22:9100, 192.168.1.23:9100, 192.168.1.24:9100]']);
  });

  it('find an Alertmanager route that no longer sends alerts where the cluster file says', async () => {
    const list = objects();
    const config = configMap(list, 'alertmanager-config');
    const am = parse(config['alertmanager.yml']!) as { route: { receiver: string } };
    am.route.receiver = 'none';
    config['alertmanager.yml'] = stringify(am);
    const { problems } = await checkAlertmanager(cluster, list);
    expect(problems).toEqual(['an alert with alertname=NodeMemoryHigh severity=warning goes to [none], expected [phone]', 'an alert with alertname=NodeExporterDown severity=critical goes to [none], expected [phone]']);
  });

  it('find dashboard queries for metrics nobody collects, undefined variables, bad PromQL and unknown log labels', async () => {
    const list = objects();
    const boards = configMap(list, 'grafana-dashboards');
    const board = JSON.parse(boards['groundwork-nodes.json']!);
    board.panels[1].targets[0].expr = 'rate(node_cpu_seconds_totl{node=~"$host"}[5m])';
    board.panels[2].targets[0].expr = 'sum by (node (node_load1)';
    const logs = JSON.parse(boards['groundwork-cluster.json']!);
    const logPanel = logs.panels.find((p: { type: string }) => p.type === 'logs');
    logPanel.targets[0].expr = '{app="n8n"} i(error)';
    boards['groundwork-nodes.json'] = JSON.stringify(board);
    boards['groundwork-cluster.json'] = JSON.stringify(logs);
    const { problems } = await staticCheck('dashboards').run({ root: repo, cluster, objects: list });
    expect(problems).toEqual(
      expect.arrayContaining([
        `groundwork-cluster.json: panel ${logPanel.id} "Recent error logs": log lines carry no "app" stream field (the log shipper sets namespace, pod, container, node, service)`,
        'groundwork-nodes.json: panel 2 "CPU busy": uses $host, which the dashboard does not define',
        'groundwork-nodes.json: panel 2 "CPU busy": node_cpu_seconds_totl is not a metric our scrape configuration collects (catalog.ts)',
      ]),
    );
    expect(problems.find((p) => p.startsWith('dashboard queries:'))).toMatch(/panel 3 "Load \(1m\) per core" A.*parse error/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch {
      // Not up yet.
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const json = async <T>(url: string, init?: RequestInit): Promise<T> => (await (await fetch(url, init)).json()) as T;
const metricNamesOf = async (url: string) => new Set((await (await fetch(url)).text()).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));

describe('the rendered rules and routes in a real Prometheus, Alertmanager and node-exporter', () => {
  const children: ChildProcess[] = [];
  const ports = { prometheus: 0, alertmanager: 0, nodeExporter: 0 };

  beforeAll(async () => {
    const dir = scratch();
    const list = objects();
    ports.prometheus = await freePort();
    ports.alertmanager = await freePort();
    ports.nodeExporter = await freePort();
    mkdirSync(join(dir, 'rules'));
    for (const [file, text] of Object.entries(configMap(list, 'prometheus-rules'))) writeFileSync(join(dir, 'rules', file), text);
    writeFileSync(join(dir, 'alertmanager.yml'), configMap(list, 'alertmanager-config')['alertmanager.yml']!);
    const local = (port: number) => [`127.0.0.1:${port}`];
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules', '*.yaml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: local(ports.alertmanager) }] }] },
        scrape_configs: [
          { job_name: 'prometheus', static_configs: [{ targets: local(ports.prometheus) }] },
          { job_name: 'alertmanager', static_configs: [{ targets: local(ports.alertmanager) }] },
          { job_name: 'node-exporter', static_configs: [{ targets: local(ports.nodeExporter), labels: { node: 'local' } }] },
        ],
      }),
    );
    const start = (command: string, args: string[]) => {
      const child = spawn(command, args, { stdio: 'ignore' });
      children.push(child);
    };
    start('node_exporter', [`--web.listen-address=127.0.0.1:${ports.nodeExporter}`]);
    start('alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${ports.alertmanager}`, '--cluster.listen-address=']);
    // Prometheus holds a new alert back for the resend delay (a minute) before its first send.
    start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${ports.prometheus}`, '--rules.alert.resend-delay=1s']);
    await until('Prometheus to be ready', async () => ((await fetch(`http://127.0.0.1:${ports.prometheus}/-/ready`)).ok ? true : undefined));
  }, 60_000);

  afterAll(() => {
    for (const child of children) child.kill('SIGTERM');
  });

  it('loads every rendered rule and reaches the rendered Alertmanager, which gets the Watchdog', async () => {
    const rules = await json<{ data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> } }>(`http://127.0.0.1:${ports.prometheus}/api/v1/rules`);
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(39);
    expect(loaded.filter((r) => r.health === 'err')).toEqual([]);
    await until('Prometheus to find Alertmanager', async () => {
      const am = await json<{ data: { activeAlertmanagers: unknown[] } }>(`http://127.0.0.1:${ports.prometheus}/api/v1/alertmanagers`);
      return am.data.activeAlertmanagers.length ? true : undefined;
    });
    const alerts = await until('the Watchdog in Alertmanager', async () => {
      const list = await json<Array<{ labels: Record<string, string>; receivers: Array<{ name: string }> }>>(`http://127.0.0.1:${ports.alertmanager}/api/v2/alerts`);
      return list.find((a) => a.labels.alertname === 'Watchdog');
    });
    expect(alerts.labels).toEqual({ alertname: 'Watchdog', severity: 'none' });
    expect(alerts.receivers.map((r) => r.name)).toEqual(['none']);
  });

  it('holds back a warning while the critical alert for the same problem and object fires', async () => {
    const post = (labels: Record<string, string>) => ({ labels, annotations: { summary: 'test' } });
    const res = await fetch(`http://127.0.0.1:${ports.alertmanager}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        post({ alertname: 'NodeFilesystemFull', severity: 'critical', problem: 'filesystem-space', node: 'n1', mountpoint: '/var' }),
        post({ alertname: 'NodeFilesystemAlmostFull', severity: 'warning', problem: 'filesystem-space', node: 'n1', mountpoint: '/var' }),
        post({ alertname: 'NodeFilesystemAlmostFull', severity: 'warning', problem: 'filesystem-space', node: 'n2', mountpoint: '/var' }),
      ]),
    });
    expect(res.ok).toBe(true);
    const state = await until('the inhibition to apply', async () => {
      const list = await json<Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>>(`http://127.0.0.1:${ports.alertmanager}/api/v2/alerts?filter=problem="filesystem-space"`);
      const byNode = (node: string, severity: string) => list.find((a) => a.labels.node === node && a.labels.severity === severity)?.status;
      const n1 = byNode('n1', 'warning');
      return n1?.state === 'suppressed' ? { n1, n2: byNode('n2', 'warning'), critical: byNode('n1', 'critical') } : undefined;
    });
    expect(state.n1.inhibitedBy.length).toBe(1);
    expect(state.n2?.state).toBe('active');
    expect(state.critical?.state).toBe('active');
  });

  it('answers every dashboard query over node-exporter and Prometheus metrics without error, with data', async () => {
    const local = new Set([...CATALOG['node-exporter']!.metrics, ...CATALOG.prometheus!.metrics, ...CATALOG.alertmanager!.metrics, ...CATALOG.synthetic!.metrics]);
    const queries = dashboards(cluster).flatMap((d) => (dashboardJson(d).panels as Array<{ title: string; targets?: Array<{ expr: string; datasource: { uid: string } }> }>).flatMap((p) => (p.targets ?? []).filter((t) => t.datasource.uid === 'prometheus').map((t) => ({ title: `${d.uid}: ${p.title}`, expr: t.expr }))));
    const runnable = queries.filter((q) => metricNames(q.expr).every((m) => local.has(m)));
    expect(runnable.length).toBeGreaterThan(8);
    await until('node-exporter to be scraped', async () => {
      const r = await json<{ data: { result: unknown[] } }>(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=${encodeURIComponent('rate(node_cpu_seconds_total[5s])')}`);
      return r.data.result.length ? true : undefined;
    });
    for (const q of runnable) {
      const expr = q.expr.replace(/\$\{?__rate_interval\}?/g, '5s').replace(/\[5m\]/g, '[5s]').replace(/\$\{?[A-Za-z_]+\}?/g, '.+');
      const result = await json<{ status: string; error?: string; data?: { result: unknown[] } }>(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
      expect(result.status, `${q.title}: ${result.error ?? ''}`).toBe('success');
      if (!/thermal|Targets down|Alerts firing/.test(q.title) && metricNames(expr).some((m) => m.startsWith('node_'))) expect(result.data?.result.length, `${q.title} returned no data`).toBeGreaterThan(0);
    }
  });

  it('finds the catalog\'s node-exporter, Prometheus and Alertmanager metric names in what the real binaries expose', async () => {
    const node = await metricNamesOf(`http://127.0.0.1:${ports.nodeExporter}/metrics`);
    const prom = await metricNamesOf(`http://127.0.0.1:${ports.prometheus}/metrics`);
    const am = await metricNamesOf(`http://127.0.0.1:${ports.alertmanager}/metrics`);
    const strip = (name: string) => name.replace(/_bucket$/, '');
    expect(CATALOG['node-exporter']!.metrics.filter((m) => !node.has(strip(m)))).toEqual([]);
    expect(CATALOG.prometheus!.metrics.filter((m) => !prom.has(m))).toEqual([]);
    expect(CATALOG.alertmanager!.metrics.filter((m) => !am.has(m))).toEqual([]);
  });
});

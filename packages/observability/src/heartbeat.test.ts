import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { LoadedCluster } from '@groundwork/cluster';
import { exampleCluster, scratchDir } from '@groundwork/testkit';
import { freePort } from '@groundwork/testkit/services';
import { programPath } from '@groundwork/testkit/programs';
import { startProgram, statusOf, waitUntil, type Program } from '@groundwork/testkit/kube';
import { SECRETS_DIR } from './config/alertmanager-config.ts';
import { configMapData } from './checks/tools.ts';
import { renderedObjects } from './platform.ts';

/**
 * The dead man's switch, in the pinned Alertmanager on the rendered configuration: the always-firing Watchdog
 * reaches the heartbeat URL (read from the rendered Secret's file) every interval, and nothing else does. The
 * heartbeat service (healthchecks.io and the like, which cannot be reached from here) is a local HTTP server that
 * records what arrives.
 */
function withHeartbeat(cluster: LoadedCluster, interval: string): LoadedCluster {
  const { observability } = cluster.config.features;
  return { ...cluster, config: { ...cluster.config, features: { ...cluster.config.features, observability: { ...observability, alerting: { ...observability.alerting, heartbeat: { enabled: true, interval } } } } } };
}

describe('the Watchdog sent to an external heartbeat by the rendered Alertmanager', () => {
  const cluster = withHeartbeat(exampleCluster('pi-fleet'), '2s');
  const config = configMapData(renderedObjects(cluster), 'alertmanager-config')['alertmanager.yml']!;
  const pings: Array<{ path: string; alerts: string[] }> = [];
  let heartbeat: Server;
  let alertmanager: Program;
  let api = '';

  beforeAll(async () => {
    const dir = scratchDir('gw-heartbeat-');
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets);
    heartbeat = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        pings.push({ path: req.url ?? '', alerts: (JSON.parse(body) as { alerts: Array<{ labels: { alertname: string } }> }).alerts.map((a) => a.labels.alertname) });
        res.end('OK');
      });
    });
    await new Promise<void>((resolve) => heartbeat.listen(0, '127.0.0.1', resolve));
    const { port } = heartbeat.address() as { port: number };
    // What the rendered Secret alertmanager-receivers holds, as the mounted files.
    writeFileSync(join(secrets, 'heartbeat-url'), `http://127.0.0.1:${port}/ping/0a1b2c3d`);
    writeFileSync(join(secrets, 'phone-token'), 'tk_test');
    writeFileSync(join(dir, 'alertmanager.yml'), config.replaceAll(SECRETS_DIR, secrets));
    const amPort = await freePort();
    api = `http://127.0.0.1:${amPort}/api/v2`;
    alertmanager = startProgram('alertmanager', programPath('alertmanager'), [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], join(dir, 'alertmanager.log'));
    await waitUntil('Alertmanager to start', alertmanager, 30_000, async () => (await statusOf(`${api}/status`)) === 200, 250);
  }, 60_000);

  afterAll(async () => {
    await alertmanager?.stop();
    heartbeat?.close();
  });

  it('routes the Watchdog, and only the Watchdog, to the heartbeat URL from the Secret, again every interval', async () => {
    const route = parse(config) as { route: { routes: Array<Record<string, unknown>> }; receivers: Array<{ name: string; webhook_configs?: Array<{ url_file: string }> }> };
    expect(route.route.routes[0]).toMatchObject({ receiver: 'heartbeat', matchers: ['alertname="Watchdog"'], repeat_interval: '2s' });
    expect(route.receivers.find((r) => r.name === 'heartbeat')?.webhook_configs).toEqual([{ url_file: `${SECRETS_DIR}/heartbeat-url`, send_resolved: false }]);
    // Prometheus keeps re-sending firing alerts; so does this loop, for as long as the test watches.
    const send = () => fetch(`${api}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels: { alertname: 'Watchdog', severity: 'none' }, annotations: { summary: 'alerting works' } },
        { labels: { alertname: 'TargetDown', severity: 'warning', job: 'victoria-logs' }, annotations: { summary: 'a target is down' } },
      ]),
    });
    const started = Date.now();
    while (Date.now() - started < 9_000) {
      expect((await send()).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(pings.length, alertmanager.tail()).toBeGreaterThanOrEqual(2);
    expect(new Set(pings.map((p) => p.path))).toEqual(new Set(['/ping/0a1b2c3d']));
    expect(new Set(pings.flatMap((p) => p.alerts))).toEqual(new Set(['Watchdog']));
  }, 30_000);
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { KubeApi } from '@groundwork/kube';
import { FakeKubeApi } from '@groundwork/testkit/kube';
import { observabilityLiveChecks } from './checks/live.ts';

const cluster = loadCluster(join(import.meta.dirname, '..', '..', '..'), 'pi-fleet');
const target = (job: string, instance: string, health = 'up', lastError = '') => ({ labels: { job, instance }, health, lastError });

describe('live checks through the API server\'s service proxy', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;
  const check = async (name: string) => observabilityLiveChecks.find((c) => c.name === name)!.run(api, { cluster, objects: [] });

  beforeAll(async () => {
    fake = new FakeKubeApi();
    await fake.start();
    api = KubeApi.fromKubeconfig(fake.kubeconfig(), 'groundwork-observability');
  });
  afterAll(() => fake.stop());

  it('report every target up, Alertmanager found, logs from every node and a healthy Grafana', async () => {
    fake.proxies.set('observability/prometheus:9090', (path) => {
      if (path === '/api/v1/targets?state=active') return { status: 200, body: { status: 'success', data: { activeTargets: [target('kubelet', '192.168.1.21:10250'), target('node-exporter', '192.168.1.21:9100')] } } };
      if (path === '/api/v1/alertmanagers') return { status: 200, body: { status: 'success', data: { activeAlertmanagers: [{ url: 'http://alertmanager.observability.svc:9093/api/v2/alerts' }] } } };
      return { status: 404, body: 'not found' };
    });
    fake.proxies.set('observability/loki:3100', (path) => (path === '/loki/api/v1/label/node/values?since=15m' ? { status: 200, body: { status: 'success', data: ['pi-cp-1', 'pi-w-1', 'pi-w-2', 'pi-w-3'] } } : { status: 404, body: '' }));
    fake.proxies.set('observability/grafana:3000', () => ({ status: 200, body: { database: 'ok', version: '13.2.0' } }));
    expect(await check('targets')).toEqual({ ok: true, detail: '2/2 Prometheus targets up' });
    expect(await check('alerting')).toEqual({ ok: true, detail: 'Prometheus sends alerts to http://alertmanager.observability.svc:9093/api/v2/alerts' });
    expect(await check('logs')).toEqual({ ok: true, detail: 'Loki received logs from all 4 nodes in the last 15 minutes' });
    expect(await check('grafana')).toEqual({ ok: true, detail: 'Grafana 13.2.0 healthy' });
    expect(fake.requests.some((r) => r.path === '/api/v1/namespaces/observability/services/prometheus:9090/proxy/api/v1/targets' && r.query.state === 'active')).toBe(true);
  });

  it('name the targets that are down, the silent nodes, and a service with no endpoints', async () => {
    fake.proxies.set('observability/prometheus:9090', () => ({ status: 200, body: { data: { activeTargets: [target('kubelet', '192.168.1.21:10250'), target('etcd', '192.168.1.21:2381', 'down', 'connection refused')], activeAlertmanagers: [] } } }));
    fake.proxies.set('observability/loki:3100', () => ({ status: 200, body: { data: ['pi-cp-1', 'pi-w-1'] } }));
    fake.proxies.delete('observability/grafana:3000');
    expect(await check('targets')).toEqual({ ok: false, detail: '1/2 targets up; down: etcd 192.168.1.21:2381 (connection refused)' });
    expect(await check('alerting')).toEqual({ ok: false, detail: 'Prometheus has no reachable Alertmanager' });
    expect(await check('logs')).toEqual({ ok: false, detail: 'no logs from pi-w-2, pi-w-3 in the last 15 minutes' });
    expect(await check('grafana')).toEqual({ ok: false, detail: 'grafana answered 503 for /api/health' });
  });
});

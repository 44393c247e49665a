import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { KubeApi } from '@groundwork/kube';
import { programVersion } from '@groundwork/testkit/programs';
import { ApiFront, addNodes, startControlPlane, testNode, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { NODES_WITH_LOGS_PATH, observabilityLiveChecks } from './checks/live.ts';

const cluster = loadCluster(join(import.meta.dirname, '..', '..', '..'), 'pi-fleet');
const target = (job: string, instance: string, health = 'up', lastError = '') => ({ labels: { job, instance }, health, lastError });

/**
 * The live checks reach Prometheus, Loki and Grafana through the real API server's service proxy. The Services
 * and their pods are real objects (kwok runs the pods, the controllers publish their endpoints); what the
 * programs inside answer comes from the test (ApiFront), as nothing can listen on kwok's pod addresses.
 */
describe('live checks through the API server\'s service proxy', () => {
  let plane: ControlPlane;
  let front: ApiFront;
  let api: KubeApi;
  const asked: string[] = [];
  const check = async (name: string) => observabilityLiveChecks.find((c) => c.name === name)!.run(api, { cluster, objects: [] });
  const endpoints = async (name: string, ready: boolean) =>
    plane.client.waitFor(`${name} endpoints ${ready ? 'ready' : 'gone'}`, async () => {
      const slices = await plane.client.list('discovery.k8s.io/v1', 'EndpointSlice', { namespace: 'observability', labelSelector: `kubernetes.io/service-name=${name}` });
      const any = slices.some((s) => ((s.endpoints as Array<{ conditions?: { ready?: boolean } }> | undefined) ?? []).some((e) => e.conditions?.ready));
      return any === ready ? true : undefined;
    });

  beforeAll(async () => {
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'pi-fleet') });
    await addNodes(plane.client, [testNode('pi-cp-1')]);
    front = new ApiFront(plane);
    await front.start();
    api = KubeApi.fromKubeconfig(front.kubeconfig(), 'groundwork-observability');
    await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'observability' } });
  }, 180_000);
  afterAll(async () => {
    await front?.stop();
    await plane?.stop();
  });

  it('report every target up, Alertmanager found, logs from every node and a healthy Grafana', async () => {
    await front.serve({ namespace: 'observability', name: 'prometheus', port: 9090 }, (path) => {
      asked.push(path);
      if (path === '/api/v1/targets?state=active') return { status: 200, body: { status: 'success', data: { activeTargets: [target('kubelet', '192.168.1.21:10250'), target('node-exporter', '192.168.1.21:9100')] } } };
      if (path === '/api/v1/alertmanagers') return { status: 200, body: { status: 'success', data: { activeAlertmanagers: [{ url: 'http://alertmanager.observability.svc:9093/api/v2/alerts' }] } } };
      return { status: 404, body: 'not found' };
    });
    // VictoriaLogs' answer in the shape the real one gives (logs.test.ts runs the live check against it).
    const values = (nodes: string[]) => ({ values: nodes.map((value) => ({ value, hits: 12 })) });
    await front.serve({ namespace: 'observability', name: 'victoria-logs', port: 9428 }, (path) => (path === NODES_WITH_LOGS_PATH ? { status: 200, body: values(['pi-cp-1', 'pi-w-1', 'pi-w-2', 'pi-w-3']) } : { status: 404, body: '' }));
    await front.serve({ namespace: 'observability', name: 'grafana', port: 3000 }, () => ({ status: 200, body: { database: 'ok', version: '13.2.0' } }));
    for (const name of ['prometheus', 'victoria-logs', 'grafana']) await endpoints(name, true);
    expect(await check('targets')).toEqual({ ok: true, detail: '2/2 Prometheus targets up' });
    expect(await check('alerting')).toEqual({ ok: true, detail: 'Prometheus sends alerts to http://alertmanager.observability.svc:9093/api/v2/alerts' });
    expect(await check('logs')).toEqual({ ok: true, detail: 'VictoriaLogs received logs from all 4 nodes in the last 15 minutes' });
    expect(await check('grafana')).toEqual({ ok: true, detail: 'Grafana 13.2.0 healthy' });
    expect(asked).toContain('/api/v1/targets?state=active');
  });

  it('name the targets that are down, the silent nodes, and a service with no endpoints', async () => {
    front.inPod.set('observability/prometheus:9090', () => ({ status: 200, body: { data: { activeTargets: [target('kubelet', '192.168.1.21:10250'), target('etcd', '192.168.1.21:2381', 'down', 'connection refused')], activeAlertmanagers: [] } } }));
    front.inPod.set('observability/victoria-logs:9428', () => ({ status: 200, body: { values: [{ value: 'pi-cp-1', hits: 3 }, { value: 'pi-w-1', hits: 9 }] } }));
    // Grafana scaled to nothing: its Service has no endpoints left.
    await plane.client.mergePatch('apps/v1', 'Deployment', 'grafana', 'observability', { spec: { replicas: 0 } }, 'kubectl-scale', 'scale');
    await endpoints('grafana', false);
    expect(await check('targets')).toEqual({ ok: false, detail: '1/2 targets up; down: etcd 192.168.1.21:2381 (connection refused)' });
    expect(await check('alerting')).toEqual({ ok: false, detail: 'Prometheus has no reachable Alertmanager' });
    expect(await check('logs')).toEqual({ ok: false, detail: 'no logs from pi-w-2, pi-w-3 in the last 15 minutes' });
    expect(await check('grafana')).toEqual({ ok: false, detail: 'grafana answered 503 for /api/health' });
  });
});

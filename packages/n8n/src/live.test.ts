import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { KubeApi } from '@groundwork/kube';
import { FakeKubeApi } from '@groundwork/testkit/kube';
import { n8nLiveChecks } from './checks/live.ts';
import { publicReadiness } from './checks/public-url.ts';
import { startTlsIngress, type TlsIngress } from './e2e/tls-ingress.ts';

const cluster = loadCluster(join(import.meta.dirname, '..', '..', '..'), 'pi-fleet');
const HOST = 'n8n.pi.home.arpa';

/** A pod of one n8n process kind, Ready or not. */
function pod(name: string, instance: string, ready: boolean) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'n8n', labels: { 'app.kubernetes.io/name': 'n8n', 'app.kubernetes.io/instance': instance } },
    spec: { containers: [{ name: 'n8n', image: 'docker.n8n.io/n8nio/n8n:2.41.1' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('n8n live checks', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;
  let ingress: TlsIngress;
  const processes = () => n8nLiveChecks.find((c) => c.name === 'processes')!.run(api, { cluster, objects: [] });

  beforeAll(async () => {
    fake = new FakeKubeApi();
    await fake.start();
    api = KubeApi.fromKubeconfig(fake.kubeconfig(), 'groundwork-n8n');
    for (const ns of ['n8n', 'traefik']) fake.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    fake.seed(pod('n8n-7d9f-abcde', 'n8n', true));
    fake.seed(pod('n8n-worker-5c8b-aaaaa', 'n8n-worker', true));
    fake.seed(pod('n8n-worker-5c8b-bbbbb', 'n8n-worker', true));
    fake.seed(pod('n8n-webhook-6f7a-ccccc', 'n8n-webhook', true));
    fake.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'traefik', namespace: 'traefik' }, spec: { type: 'LoadBalancer', ports: [{ name: 'https', port: 443 }] } });
    fake.setStatus('v1', 'Service', 'traefik', 'traefik', { loadBalancer: { ingress: [{ ip: '192.168.1.40' }] } });
    ingress = await startTlsIngress(HOST);
  });
  afterAll(async () => {
    ingress.server.close();
    await fake.stop();
  });

  it('find main, both workers and the webhook processor ready, and each worker connected to the database and queue', async () => {
    for (const name of ['n8n-worker-5c8b-aaaaa', 'n8n-worker-5c8b-bbbbb']) fake.proxies.set(`n8n/pod/${name}:5678`, (path) => (path === '/healthz/readiness' ? { status: 200, body: { status: 'ok' } } : { status: 404, body: '' }));
    expect(await processes()).toEqual({ ok: true, detail: 'main 1/1, workers 2/2, webhook processors 1/1 ready; queue connected' });
  });

  it('name a worker that lost the queue and a process kind with too few ready pods', async () => {
    fake.proxies.set('n8n/pod/n8n-worker-5c8b-bbbbb:5678', () => ({ status: 503, body: { status: 'error' } }));
    fake.setStatus('v1', 'Pod', 'n8n-webhook-6f7a-ccccc', 'n8n', pod('n8n-webhook-6f7a-ccccc', 'n8n-webhook', false).status);
    const result = await processes();
    expect(result.ok).toBe(false);
    expect(result.detail).toContain('webhook processors: 0/1 ready');
    expect(result.detail).toContain('worker n8n-worker-5c8b-bbbbb is not connected to the database and queue (503');
  });

  it('reach the public URL by its name through the Ingress (here: an address map entry for it)', async () => {
    const env = { GROUNDWORK_ADDRESS_MAP: `${HOST}:443=127.0.0.1:${ingress.port}` };
    expect(await publicReadiness(api, cluster, env)).toEqual({ ok: true, detail: `https://${HOST}/healthz/readiness ready by its name; its certificate is not trusted here, Traefik's default?` });
  });

  it('fall back to Traefik\'s LoadBalancer address when the name does not resolve, and report a not-ready n8n', async () => {
    const env = { GROUNDWORK_ADDRESS_MAP: `192.168.1.40:443=127.0.0.1:${ingress.port}` };
    const through = await publicReadiness(api, cluster, env);
    expect(through).toEqual({ ok: true, detail: `https://${HOST}/healthz/readiness ready through Traefik at 192.168.1.40:443, as ${HOST} does not resolve here; its certificate is not trusted here, Traefik's default?` });
    ingress.readiness = 503;
    const down = await publicReadiness(api, cluster, env);
    expect(down.ok).toBe(false);
    expect(down.detail).toContain('answered 503 through Traefik');
  });
});

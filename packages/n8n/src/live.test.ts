import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { KubeApi } from '@groundwork/kube';
import { programVersion } from '@groundwork/testkit/programs';
import { ApiFront, addNodes, startControlPlane, testNode, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { n8nLiveChecks } from './checks/live.ts';
import { publicReadiness } from './checks/public-url.ts';
import { startTlsIngress, type TlsIngress } from './e2e/tls-ingress.ts';

const cluster = loadCluster(join(import.meta.dirname, '..', '..', '..'), 'pi-fleet');
const HOST = 'n8n.pi.home.arpa';

/** A pod of one n8n process kind; kwok runs it and reports it Ready. */
function pod(name: string, instance: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'n8n', labels: { 'app.kubernetes.io/name': 'n8n', 'app.kubernetes.io/instance': instance } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'n8n', image: 'docker.n8n.io/n8nio/n8n:2.41.1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  };
}

/**
 * The live checks against a real API server: the pods are real (kwok runs them), the workers' own readiness
 * answers come through the API server's pod proxy (ApiFront answers for the program inside), and Traefik's
 * HTTPS entry point is a stand-in that routes by Host.
 */
describe('n8n live checks', () => {
  let plane: ControlPlane;
  let front: ApiFront;
  let api: KubeApi;
  let ingress: TlsIngress;
  const processes = () => n8nLiveChecks.find((c) => c.name === 'processes')!.run(api, { cluster, objects: [] });
  const names = ['n8n-7d9f-abcde', 'n8n-worker-5c8b-aaaaa', 'n8n-worker-5c8b-bbbbb', 'n8n-webhook-6f7a-ccccc'];

  beforeAll(async () => {
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'pi-fleet') });
    await addNodes(plane.client, [testNode('pi-w-1')]);
    front = new ApiFront(plane);
    await front.start();
    api = KubeApi.fromKubeconfig(front.kubeconfig(), 'groundwork-n8n');
    for (const ns of ['n8n', 'traefik']) await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const instances = ['n8n', 'n8n-worker', 'n8n-worker', 'n8n-webhook'];
    for (const [i, name] of names.entries()) await plane.client.create(pod(name, instances[i]!));
    await plane.client.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'traefik', namespace: 'traefik' }, spec: { type: 'LoadBalancer', selector: { app: 'traefik' }, ports: [{ name: 'https', port: 443 }] } });
    // What Cilium's LB-IPAM would write once it took an address from the pool.
    await plane.client.setStatus('v1', 'Service', 'traefik', 'traefik', { loadBalancer: { ingress: [{ ip: '192.168.1.40' }] } });
    for (const name of names) {
      await plane.client.waitFor(`pod ${name} to be Ready`, async () => (((await plane.client.get('v1', 'Pod', name, 'n8n'))?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') || undefined);
    }
    ingress = await startTlsIngress(HOST);
  }, 180_000);
  afterAll(async () => {
    ingress?.server.close();
    await front?.stop();
    await plane?.stop();
  });

  it('find main, both workers and the webhook processor ready, and each worker connected to the database and queue', async () => {
    for (const name of [names[1], names[2]]) front.inPod.set(`n8n/pod/${name}:5678`, (path) => (path === '/healthz/readiness' ? { status: 200, body: { status: 'ok' } } : { status: 404, body: '' }));
    expect(await processes()).toEqual({ ok: true, detail: 'main 1/1, workers 2/2, webhook processors 1/1 ready; queue connected' });
  });

  it('name a worker that lost the queue and a process kind with too few ready pods', async () => {
    front.inPod.set(`n8n/pod/${names[2]}:5678`, () => ({ status: 503, body: { status: 'error' } }));
    // What the kubelet reports when the webhook processor's readiness probe fails.
    await plane.client.setStatus('v1', 'Pod', names[3]!, 'n8n', { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date().toISOString() }] }, 'kubelet');
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

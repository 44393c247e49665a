import { UserError, formatDuration } from '@groundwork/kit';
import { loadBalancerPool } from '@groundwork/cluster';
import { container, isolatedNamespace, restrictedPodSecurity, toPlain, type KubeApi, type KubeObject, type LiveCheck } from '@groundwork/kube';
import { IMAGES } from './versions.ts';
import { STORAGE_CLASS } from './components/local-path.ts';
import { NODE_PORTS, TRAEFIK_NAMESPACE } from './components/traefik.ts';

const PROBE_NAMESPACE = 'groundwork-storage-probe';

async function until<T>(what: string, timeoutMs: number, pollMs: number, read: () => Promise<T | undefined>): Promise<T> {
  const started = performance.now();
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (performance.now() - started > timeoutMs) throw new UserError(`timed out after ${formatDuration(timeoutMs)} waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Proves the default StorageClass provisions: a throw-away namespace, a 16Mi claim and a pod that writes
 * to it; the claim must bind and the pod succeed. Everything is deleted afterwards.
 */
export const storageCheck: LiveCheck = {
  name: 'storage',
  async run(api, { cluster }) {
    if (!cluster.config.features.localStorage.enabled) return { ok: true, detail: 'local storage is off' };
    const env = process.env;
    const timeoutMs = Number(env.GROUNDWORK_PROBE_TIMEOUT_MS ?? 180_000);
    const pollMs = Number(env.GROUNDWORK_POLL_MS ?? 2_000);
    const started = performance.now();
    const labels = { 'app.kubernetes.io/managed-by': 'groundwork', 'groundwork.dev/probe': 'storage' };
    const [ns] = isolatedNamespace(PROBE_NAMESPACE, 'restricted').map((o) => toPlain(o));
    const claim: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'probe', namespace: PROBE_NAMESPACE, labels }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: '16Mi' } } } };
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe', namespace: PROBE_NAMESPACE, labels },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurity(),
        containers: [container({ name: 'probe', image: IMAGES.busybox, command: ['sh', '-c', 'echo groundwork > /data/probe && cat /data/probe'], resources: { cpu: '10m', memory: '8Mi', memoryLimit: '32Mi' }, mounts: [{ name: 'data', mountPath: '/data' }] })],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'probe' } }],
      },
    };
    try {
      // A probe just before this one (a verify run twice in a row) may still be deleting its namespace, and
      // nothing can be created in a namespace being deleted: start from none.
      if (await api.get(ns!)) {
        await api.delete(ns!);
        await until(`the previous probe's namespace ${PROBE_NAMESPACE} to be deleted`, timeoutMs, pollMs, async () => ((await api.get(ns!)) ? undefined : true));
      }
      await api.apply({ ...ns!, metadata: { ...ns!.metadata, labels: { ...ns!.metadata.labels, ...labels } } });
      await api.apply(claim);
      await api.apply(pod);
      const phase = await until('the probe pod to finish', timeoutMs, pollMs, async () => {
        const live = await api.get(pod);
        const p = (live?.status as { phase?: string } | undefined)?.phase;
        return p === 'Succeeded' || p === 'Failed' ? p : undefined;
      });
      const bound = (await api.get(claim))?.status as { phase?: string } | undefined;
      if (phase !== 'Succeeded' || bound?.phase !== 'Bound') return { ok: false, detail: `${STORAGE_CLASS} did not provision: claim ${bound?.phase ?? 'missing'}, pod ${phase}` };
      return { ok: true, detail: `${STORAGE_CLASS} provisioned and mounted a 16Mi volume in ${formatDuration(performance.now() - started)}` };
    } catch (error) {
      if (error instanceof UserError) return { ok: false, detail: `${STORAGE_CLASS}: ${error.message}` };
      throw error;
    } finally {
      await api.delete(ns!);
    }
  },
};

function loadBalancerAddress(service: KubeObject | undefined): string | undefined {
  const ingress = (service?.status as { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } } | undefined)?.loadBalancer?.ingress ?? [];
  return ingress.map((i) => i.ip ?? i.hostname).find(Boolean);
}

/** The Ingress controller's Service has its LoadBalancer address (the one the cluster file asks for, if any). */
export const ingressCheck: LiveCheck = {
  name: 'ingress',
  async run(api: KubeApi, { cluster }) {
    if (!cluster.config.features.ingress.enabled) return { ok: true, detail: 'ingress is off' };
    const service = await api.get({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'traefik', namespace: TRAEFIK_NAMESPACE } });
    if (!service) return { ok: false, detail: `Service ${TRAEFIK_NAMESPACE}/traefik is missing` };
    if (!loadBalancerPool(cluster.config)) return { ok: true, detail: `no LoadBalancer pool: Traefik on node ports ${NODE_PORTS.http} (HTTP) and ${NODE_PORTS.https} (HTTPS)` };
    const address = loadBalancerAddress(service);
    const wanted = cluster.config.features.ingress.loadBalancerIp;
    if (!address) return { ok: false, detail: `${TRAEFIK_NAMESPACE}/traefik has no LoadBalancer address yet (is the Cilium pool announced?)` };
    if (wanted && address !== wanted) return { ok: false, detail: `${TRAEFIK_NAMESPACE}/traefik got ${address}, the cluster file asks for ${wanted}` };
    return { ok: true, detail: `${TRAEFIK_NAMESPACE}/traefik at ${address}` };
  },
};

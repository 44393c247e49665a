import { programPath } from '../programs.ts';
import { scratchDir } from '../workspace.ts';
import type { ControlPlane } from './control-plane.ts';
import { runDeploymentAsProcess, type ProcessPod } from './process-pod.ts';
import { statusOf, waitUntil } from './process.ts';

/**
 * metrics-server (built at the version platform-core pins) run on the rendered Deployment as the rendered
 * ServiceAccount, with this module as the kubelet of its pod: the pod gets this machine's `address` as its IP,
 * so the real endpoint controllers publish it behind the rendered Service and the real aggregator (with
 * StartOptions.aggregatorRouting) reaches it; the pod turns Ready when the rendered readiness probe passes.
 * kwok must leave the pod alone (METRICS_SERVER_CEL). The rendered flags stay, port included; only what a pod
 * gets from its mounts changes: the in-cluster identity (a kubeconfig with the ServiceAccount's token) and a
 * private certificate folder.
 */

const NAMESPACE = 'metrics-server';
/** metrics-server's own pods, as a kwok selector condition (CEL), for KwokOptions.leavePods. */
export const METRICS_SERVER_CEL = `(self.metadata.namespace == '${NAMESPACE}' && self.metadata.name.startsWith('metrics-server-'))`;

type Probe = { httpGet: { path: string; port: number | string; scheme?: string } };
type Container = { name: string; image: string; readinessProbe?: Probe; ports?: Array<{ name?: string; containerPort: number }> };

export async function startMetricsServer(plane: ControlPlane, options: { address: string; timeoutMs?: number }): Promise<ProcessPod & { url: string; pod: string }> {
  const { client } = plane;
  const timeoutMs = options.timeoutMs ?? 180_000;
  const metrics = await runDeploymentAsProcess({
    plane,
    namespace: NAMESPACE,
    deployment: 'metrics-server',
    program: programPath('metrics-server'),
    timeoutMs,
    overrides: ['--kubeconfig=$(KUBECONFIG)', '--authentication-kubeconfig=$(KUBECONFIG)', '--authorization-kubeconfig=$(KUBECONFIG)', `--cert-dir=${scratchDir('gw-metrics-certs-')}`],
  });
  try {
    const pod = await client.waitFor('a metrics-server pod to be scheduled', async () => (await client.list('v1', 'Pod', { namespace: NAMESPACE })).find((p) => p.metadata.name.startsWith('metrics-server-') && (p.spec as { nodeName?: string }).nodeName), timeoutMs);
    const container = (pod.spec as { containers: Container[] }).containers[0]!;
    const at = new Date().toISOString();
    const status = (ready: boolean) => ({
      phase: 'Running',
      hostIP: options.address,
      hostIPs: [{ ip: options.address }],
      podIP: options.address,
      podIPs: [{ ip: options.address }],
      startTime: at,
      conditions: ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: ready || type === 'Initialized' || type === 'PodReadyToStartContainers' ? 'True' : 'False', lastTransitionTime: new Date().toISOString() })),
      containerStatuses: [{ name: container.name, image: container.image, imageID: '', ready, started: true, restartCount: 0, state: { running: { startedAt: at } } }],
    });
    const setStatus = (ready: boolean) => client.setStatus('v1', 'Pod', pod.metadata.name, NAMESPACE, status(ready), 'kubelet');
    await setStatus(false);
    const readiness = container.readinessProbe!.httpGet;
    const port = typeof readiness.port === 'number' ? readiness.port : container.ports!.find((p) => p.name === readiness.port)!.containerPort;
    const url = `${(readiness.scheme ?? 'HTTP').toLowerCase()}://${options.address}:${port}`;
    // As kubelets probe: the serving certificate is not checked.
    await waitUntil(`metrics-server's readiness probe (${readiness.path})`, metrics.program, timeoutMs, async () => (await statusOf(`${url}${readiness.path}`, { rejectUnauthorized: false })) === 200, 1_000);
    await setStatus(true);
    return { ...metrics, url, pod: `${NAMESPACE}/${pod.metadata.name}` };
  } catch (error) {
    await metrics.stop();
    throw new Error(`${(error as Error).message}\n${metrics.program.tail()}`);
  }
}

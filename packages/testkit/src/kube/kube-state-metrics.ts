import { programPath } from '../programs.ts';
import { freePort } from '../services.ts';
import type { ControlPlane } from './control-plane.ts';
import { runDeploymentAsProcess, type ProcessPod } from './process-pod.ts';
import { statusOf, waitUntil } from './process.ts';

/**
 * kube-state-metrics (built at the version the observability layer pins) run on the rendered Deployment as the
 * rendered ServiceAccount, so its RBAC decides what it can report. Only where it listens changes (loopback,
 * free ports) and its identity arrives as a kubeconfig, as there is no in-cluster mount outside a pod.
 */
export async function startKubeStateMetrics(plane: ControlPlane, options: { namespace?: string } = {}): Promise<ProcessPod & { metrics: string }> {
  const [port, telemetry] = await Promise.all([freePort(), freePort()]);
  const pod = await runDeploymentAsProcess({
    plane,
    namespace: options.namespace ?? 'observability',
    deployment: 'kube-state-metrics',
    program: programPath('kube-state-metrics'),
    overrides: ['--kubeconfig=$(KUBECONFIG)', '--host=127.0.0.1', `--port=${port}`, '--telemetry-host=127.0.0.1', `--telemetry-port=${telemetry}`],
  });
  const metrics = `http://127.0.0.1:${port}/metrics`;
  await waitUntil('kube-state-metrics to serve metrics', pod.program, 60_000, async () => (await statusOf(metrics)) === 200, 500);
  return { ...pod, metrics };
}

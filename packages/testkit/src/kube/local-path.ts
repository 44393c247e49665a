import { programPath } from '../programs.ts';
import { freePort } from '../services.ts';
import type { KubeObject } from './client.ts';
import type { ControlPlane } from './control-plane.ts';
import { runDeploymentAsProcess, type ProcessPod } from './process-pod.ts';

/**
 * local-path-provisioner (built at the version platform-core pins) run on the rendered Deployment, ConfigMap and
 * helper-pod template, as the rendered ServiceAccount: it watches claims on its StorageClass, creates the helper
 * pods that make and remove volume folders (a PodRunner runs them, on the node folders it keeps), and creates
 * and deletes the PersistentVolumes. Its health server answers on `health` (the rendered probes' paths).
 */
const NAMESPACE = 'local-path-storage';

/** local-path's helper pods (named from the template's `helper-pod`), which a PodRunner runs for real. */
export const isLocalPathHelper = (pod: KubeObject) => pod.metadata.namespace === NAMESPACE && pod.metadata.name.startsWith('helper-pod-');
/** The same pods as a kwok selector condition (CEL), for KwokOptions.leavePods. */
export const LOCAL_PATH_HELPER_CEL = `(self.metadata.namespace == '${NAMESPACE}' && self.metadata.name.startsWith('helper-pod-'))`;
/** What busybox gives the helper's scripts: the host's shell and coreutils stand for it, as root (its user). */
export const BUSYBOX_RUNTIME = { path: ['/usr/bin', '/bin'], user: { uid: 0, gid: 0, name: 'root' } };

export async function startLocalPathProvisioner(plane: ControlPlane, options: { namespace?: string; deployment?: string } = {}): Promise<ProcessPod & { health: string }> {
  const port = await freePort();
  const pod = await runDeploymentAsProcess({
    plane,
    namespace: options.namespace ?? NAMESPACE,
    deployment: options.deployment ?? 'local-path-provisioner',
    program: programPath('local-path-provisioner'),
    overrides: [
      // Outside a pod there is no in-cluster service account mount: the same identity, as a kubeconfig.
      '--kubeconfig=$(KUBECONFIG)',
      // A free port: several provisioners may run at once on one machine.
      `--health-port=${port}`,
    ],
  });
  return { ...pod, health: `http://127.0.0.1:${port}` };
}

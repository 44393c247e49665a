import { programPath } from '../programs.ts';
import { freePort } from '../services.ts';
import type { ControlPlane } from './control-plane.ts';
import { runDeploymentAsProcess, type ProcessPod } from './process-pod.ts';

/**
 * Cilium's operator (operator-generic, built at the version platform-core pins) run on the rendered Deployment
 * and cilium-config, as the rendered ServiceAccount: it registers Cilium's CRDs when it becomes leader (the
 * engine waits for them before applying the pool), and its LB-IPAM gives LoadBalancer Services addresses from the
 * rendered CiliumLoadBalancerIPPool. Cilium's agents (the datapath, L2 announcements) cannot run here.
 */
export async function startCiliumOperator(plane: ControlPlane, options: { namespace?: string; deployment?: string } = {}): Promise<ProcessPod> {
  return runDeploymentAsProcess({
    plane,
    namespace: options.namespace ?? 'cilium',
    deployment: options.deployment ?? 'cilium-operator',
    program: programPath('cilium-operator-generic'),
    overrides: [
      // Outside a pod there is no in-cluster service account mount: the same identity, as a kubeconfig.
      '--k8s-kubeconfig-path=$(KUBECONFIG)',
      // Loopback and free ports only: several operators may run at once on one machine.
      '--operator-api-serve-addr=127.0.0.1:0',
      `--operator-prometheus-serve-addr=127.0.0.1:${await freePort()}`,
      '--enable-gops=false',
      '--shell-sock-path=',
      // Without agents no pod has a CiliumEndpoint, and the operator would restart CoreDNS's pods for it; the
      // node watchers act on agent pods and taints, which kwok's nodes never have.
      '--unmanaged-pod-watcher-interval=0',
      '--remove-cilium-node-taints=false',
      '--set-cilium-is-up-condition=false',
    ],
  });
}

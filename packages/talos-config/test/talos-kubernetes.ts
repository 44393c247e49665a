import { freePort } from '@groundwork/testkit/services';
import { nodeFromMachineConfig, specFromMachineConfig, startControlPlane, type ControlPlane } from '@groundwork/testkit/kube';
import type { Machined } from './fake-talos.ts';

/**
 * What machined does once etcd is bootstrapped, with the real programs: a Kubernetes control plane started from
 * the machine config the control plane was given (its CAs, keys and `cluster:` section, with Talos's flags), and
 * each configured node registered by its kubelet (a kwok node shaped by that node's config). The API server
 * listens on a port chosen up front, so the address map pointing the cluster endpoint at it can be set before
 * the apply that brings it up.
 */
export class TalosKubernetes implements Machined {
  readonly apiPort: number;
  plane: ControlPlane | undefined;
  /** Set when the control plane failed to start: the failure a real node would show in `talosctl logs`. */
  failure: Error | undefined;
  private starting: Promise<void> | undefined;
  private readonly nodes = new Map<string, { ip: string; config: string }>();
  private readonly registered = new Set<string>();

  private constructor(apiPort: number) {
    this.apiPort = apiPort;
  }

  static async create(): Promise<TalosKubernetes> {
    return new TalosKubernetes(await freePort());
  }

  configured(node: { name: string; ip: string }, config: string): void {
    this.nodes.set(node.name, { ip: node.ip, config });
    if (this.plane) void this.register(node.name);
  }

  bootstrapped(_node: { name: string }, config: string): void {
    this.starting ??= (async () => {
      try {
        this.plane = await startControlPlane({ spec: specFromMachineConfig(config, 'the bootstrapped node\'s machine config'), apiPort: this.apiPort });
        for (const name of this.nodes.keys()) await this.register(name);
      } catch (error) {
        this.failure = error as Error;
      }
    })();
  }

  private async register(name: string): Promise<void> {
    const node = this.nodes.get(name)!;
    if (!this.plane || this.registered.has(name)) return;
    this.registered.add(name);
    const object = nodeFromMachineConfig(node.config, { ip: node.ip, arch: 'amd64', cpu: 2, memoryBytes: 4 * 1024 ** 3 }, { kubernetes: this.plane.spec.kubernetesVersion, talos: 'v1.13.9' });
    await this.plane.client.create(object, 'kubelet');
  }

  /** Resolves once the control plane is up (or has failed to start). */
  async started(): Promise<ControlPlane> {
    await this.starting;
    if (this.failure) throw this.failure;
    if (!this.plane) throw new Error('etcd was never bootstrapped, so no control plane started');
    return this.plane;
  }

  async stop(): Promise<void> {
    await this.starting;
    await this.plane?.stop();
  }
}

import { parseAllDocuments } from 'yaml';
import { freePort } from '@groundwork/testkit/services';
import { nodeFromMachineConfig, specFromMachineConfig, startControlPlane, type ControlPlane } from '@groundwork/testkit/kube';
import type { Machined } from './fake-talos.ts';

/**
 * What machined and the kubelet do once etcd is bootstrapped, with the real programs where they can run: a
 * Kubernetes control plane started from the machine config the control plane was given (its CAs, keys and
 * `cluster:` section, with Talos's flags), and each configured node registered by its kubelet (a kwok node
 * shaped by that node's config).
 *
 * Stand-in parts, after Talos's documented behaviour: each control plane's static pods are mirrored into
 * kube-system (`k8s-app` label, the image its config names), as the kubelet does; a config whose control-plane
 * image changes restarts that component at the new version (the real binary of that version), then updates the
 * mirror pod; a config whose kubelet image changes makes the node report the new kubelet version. One set of
 * control-plane processes stands for all control planes, so the first node to move a component moves the
 * process; the other nodes' mirror pods follow their own configs.
 */

type Component = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';
const COMPONENTS: Array<[Component, string[]]> = [
  ['kube-apiserver', ['cluster', 'apiServer', 'image']],
  ['kube-controller-manager', ['cluster', 'controllerManager', 'image']],
  ['kube-scheduler', ['cluster', 'scheduler', 'image']],
];

const imageAt = (config: string, path: string[]) => {
  for (const doc of parseAllDocuments(config)) {
    const value = doc.getIn(path);
    if (typeof value === 'string') return value;
  }
  return undefined;
};
const versionOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);

export class TalosKubernetes implements Machined {
  readonly apiPort: number;
  plane: ControlPlane | undefined;
  /** Set when the control plane failed to start: the failure a real node would show in `talosctl logs`. */
  failure: Error | undefined;
  /** Component restarts, as `node component version`. */
  readonly restarts: string[] = [];
  private starting: Promise<void> | undefined;
  private work: Promise<void> = Promise.resolve();
  private readonly nodes = new Map<string, { ip: string; config: string; controlPlane: boolean }>();
  private readonly registered = new Set<string>();

  private constructor(apiPort: number) {
    this.apiPort = apiPort;
  }

  static async create(): Promise<TalosKubernetes> {
    return new TalosKubernetes(await freePort());
  }

  configured(node: { name: string; ip: string; controlPlane: boolean }, config: string): void {
    const previous = this.nodes.get(node.name)?.config;
    this.nodes.set(node.name, { ip: node.ip, config, controlPlane: node.controlPlane });
    if (!this.plane) return;
    // Changes are worked through in order, one at a time, as machined's controllers would.
    this.work = this.work.then(async () => {
      // A node reset and configured anew registers again (its Node was deleted when it left).
      if (!(await this.plane!.client.get('v1', 'Node', node.name))) this.registered.delete(node.name);
      if (!this.registered.has(node.name)) await this.register(node.name);
      else if (previous !== undefined) await this.reconcile(node.name, previous, config);
    }).catch((error: Error) => {
      this.failure = error;
    });
  }

  bootstrapped(_node: { name: string }, config: string): void {
    this.starting ??= (async () => {
      try {
        // A control plane that was wiped stops before its successor takes the port.
        await this.work;
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
    const kubelet = versionOf(imageAt(node.config, ['machine', 'kubelet', 'image']) ?? `:${this.plane.spec.kubernetesVersion}`);
    const object = nodeFromMachineConfig(node.config, { ip: node.ip, arch: 'amd64', cpu: 2, memoryBytes: 4 * 1024 ** 3 }, { kubernetes: kubelet, talos: 'v1.13.9' });
    await this.plane.client.create(object, 'kubelet');
    if (node.controlPlane) for (const [component, path] of COMPONENTS) await this.mirror(name, component, imageAt(node.config, path)!);
  }

  /** The kubelet's mirror of a static pod: deleted and created anew when its image changes, as a new pod UID. */
  private async mirror(node: string, component: Component, image: string): Promise<void> {
    const name = `${component}-${node}`;
    // The kubelet deletes a mirror pod with a grace period of 0 (pkg/kubelet/pod/mirror_client.go): gone at once.
    await this.plane!.client.delete('v1', 'Pod', name, 'kube-system', { gracePeriodSeconds: 0 });
    await this.plane!.client.waitFor(`${name} to be gone`, async () => ((await this.plane!.client.get('v1', 'Pod', name, 'kube-system')) ? undefined : true), 30_000);
    await this.plane!.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': component, tier: 'control-plane' }, annotations: { 'kubernetes.io/config.mirror': image, 'kubernetes.io/config.source': 'file' } },
      spec: { nodeName: node, priorityClassName: 'system-cluster-critical', containers: [{ name: component, image }], tolerations: [{ operator: 'Exists' }] },
    }, 'kubelet');
  }

  private async reconcile(name: string, before: string, after: string): Promise<void> {
    const plane = this.plane!;
    const node = this.nodes.get(name)!;
    if (node.controlPlane) {
      for (const [component, path] of COMPONENTS) {
        const image = imageAt(after, path)!;
        if (image === imageAt(before, path)) continue;
        const version = versionOf(image);
        if (plane.versions[component] !== version) await plane.restart(component, version);
        this.restarts.push(`${name} ${component} ${version}`);
        await this.mirror(name, component, image);
      }
    }
    const kubelet = imageAt(after, ['machine', 'kubelet', 'image']);
    if (kubelet && kubelet !== imageAt(before, ['machine', 'kubelet', 'image'])) {
      this.restarts.push(`${name} kubelet ${versionOf(kubelet)}`);
      await plane.client.mergePatch('v1', 'Node', name, undefined, { status: { nodeInfo: { kubeletVersion: versionOf(kubelet) } } }, 'kubelet', 'status');
    }
  }

  /**
   * A wiped node: its Node stays in Kubernetes until someone deletes it (as on a real cluster); once every
   * control plane is wiped, the control plane is gone, and a new bootstrap starts a new one on the same port.
   */
  wiped(node: { name: string; controlPlane: boolean }): void {
    this.nodes.delete(node.name);
    if (!node.controlPlane || [...this.nodes.values()].some((n) => n.controlPlane)) return;
    const plane = this.plane;
    this.plane = undefined;
    this.starting = undefined;
    this.registered.clear();
    this.work = this.work.then(async () => {
      await plane?.stop();
    });
  }

  /** Resolves once every config change so far has been worked through. */
  async settled(): Promise<void> {
    await this.starting;
    await this.work;
    if (this.failure) throw this.failure;
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
    await this.work;
    await this.plane?.stop();
  }
}

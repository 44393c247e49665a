import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPlanes, kubernetesVersion, nodeArch, nodeCapacity, talosVersion, type LoadedCluster } from '@groundwork/cluster';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import type { KwokOptions } from './kwok.ts';
import { addNodes, nodeFromMachineConfig } from './nodes.ts';
import { applyTalosBootstrap, talosBootstrapObjects } from './talos-bootstrap.ts';
import { specFromMachineConfig } from './talos-spec.ts';

/**
 * A cluster's own control plane for a test: started from the first control plane's rendered machine config
 * (clusters/<name>/rendered/talos-config/nodes/<node>.yaml, which talos-config's generate writes), with a kwok
 * node for every node of the cluster file, shaped by that node's rendered config and the file's hardware, and
 * what Talos itself adds to a new cluster.
 */

export interface ClusterControlPlane extends ControlPlane {
  cluster: LoadedCluster;
  /** The machine config talos-config rendered for each node, by node name. */
  machineConfigs: Map<string, string>;
}

export function renderedMachineConfigs(root: string, cluster: LoadedCluster): Map<string, string> {
  const configs = new Map<string, string>();
  for (const node of cluster.config.nodes) {
    const file = join(root, 'clusters', cluster.name, 'rendered', 'talos-config', 'nodes', `${node.name}.yaml`);
    if (!existsSync(file)) throw new Error(`${file} is missing: run talos-config's generate for ${cluster.name} first`);
    configs.set(node.name, readFileSync(file, 'utf8'));
  }
  return configs;
}

export async function startClusterControlPlane(root: string, cluster: LoadedCluster, options: { kwok?: KwokOptions; talosBootstrap?: boolean } = {}): Promise<ClusterControlPlane> {
  const configs = renderedMachineConfigs(root, cluster);
  const first = controlPlanes(cluster.config)[0]!;
  const spec = specFromMachineConfig(configs.get(first.name)!, `clusters/${cluster.name}/rendered/talos-config/nodes/${first.name}.yaml`);
  const plane = await startControlPlane({ spec, kwok: options.kwok ?? {} });
  try {
    const versions = { kubernetes: kubernetesVersion(cluster.config), talos: talosVersion(cluster.config) };
    const nodes = cluster.config.nodes.map((node) => {
      const capacity = nodeCapacity(node);
      if (!capacity) throw new Error(`cluster ${cluster.name}: node ${node.name} has no capacity in the cluster file, so the test cannot give its kwok node one`);
      return nodeFromMachineConfig(configs.get(node.name)!, { ip: node.ip, arch: nodeArch(node), ...capacity }, versions);
    });
    await addNodes(plane.client, nodes);
    if (options.talosBootstrap !== false) await applyTalosBootstrap(plane.client, talosBootstrapObjects(spec, cluster.config.nodes.map((n) => ({ name: n.name, ip: n.ip, machineConfig: configs.get(n.name)! }))));
    return { ...plane, cluster, machineConfigs: configs };
  } catch (error) {
    await plane.stop();
    throw error;
  }
}

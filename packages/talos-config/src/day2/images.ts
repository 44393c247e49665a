import { parseAllDocuments } from 'yaml';
import { IMAGES } from '../versions.ts';
import { documentsToYaml } from '../config/render.ts';

/**
 * The Kubernetes images in a machine config, and the same config with some of them at another version: how
 * the Kubernetes upgrade moves one component on one node at a time while the rendered configs already name
 * the target everywhere.
 */

export type KubeComponent = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet';

const PATHS: Record<KubeComponent, { path: string[]; image: string }> = {
  'kube-apiserver': { path: ['cluster', 'apiServer', 'image'], image: IMAGES.apiServer },
  'kube-controller-manager': { path: ['cluster', 'controllerManager', 'image'], image: IMAGES.controllerManager },
  'kube-scheduler': { path: ['cluster', 'scheduler', 'image'], image: IMAGES.scheduler },
  kubelet: { path: ['machine', 'kubelet', 'image'], image: IMAGES.kubelet },
};

export const CONTROL_PLANE_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/** The image the config gives a component (undefined where the config has none: workers run no control plane). */
export function imageIn(config: string, component: KubeComponent): string | undefined {
  for (const doc of parseAllDocuments(config)) {
    const value = doc.getIn(PATHS[component].path);
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** The config with each listed component's image at `version` (`v1.35.4`), everything else byte-for-byte kept. */
export function withComponentVersions(config: string, versions: Partial<Record<KubeComponent, string>>): string {
  const docs = parseAllDocuments(config);
  let changed = false;
  for (const doc of docs) {
    if (!doc.hasIn(['machine'])) continue;
    for (const [component, version] of Object.entries(versions) as Array<[KubeComponent, string]>) {
      const image = `${PATHS[component].image}:${version}`;
      if (doc.hasIn(PATHS[component].path) && doc.getIn(PATHS[component].path) !== image) {
        doc.setIn(PATHS[component].path, image);
        changed = true;
      }
    }
  }
  // Unchanged, the rendered text goes out as it is, so a later apply finds nothing to change.
  return changed ? documentsToYaml(docs.map((doc) => doc.toJS() as Record<string, unknown>)) : config;
}

import { createHash } from 'node:crypto';
import { LABELS, MANAGED_BY } from '../build/labels.ts';
import type { KubeObject } from '../model/object.ts';
import type { KubeApi } from './api.ts';

/**
 * ApplySet bookkeeping (KEP-3659, the labels and annotations `kubectl apply --prune --applyset` uses):
 * one parent ConfigMap per layer in kube-system lists the group-kinds and namespaces of its members, and
 * every member carries the set's id. Pruning only ever looks at objects that carry that id.
 */
export const APPLYSET = {
  id: 'applyset.kubernetes.io/id',
  partOf: 'applyset.kubernetes.io/part-of',
  tooling: 'applyset.kubernetes.io/tooling',
  groupKinds: 'applyset.kubernetes.io/contains-group-kinds',
  namespaces: 'applyset.kubernetes.io/additional-namespaces',
} as const;

export const TOOLING = 'groundwork/v0.1.0';
const PARENT_NAMESPACE = 'kube-system';

/** The id format kubectl uses: base64url(sha256(<name>.<namespace>.<kind>.<group>)). */
export function applySetId(name: string, namespace: string, kind: string, group: string): string {
  const hash = createHash('sha256').update([name, namespace, kind, group].join('.')).digest('base64url');
  return `applyset-${hash}-v1`;
}

export interface ApplySet {
  id: string;
  parent: { apiVersion: 'v1'; kind: 'ConfigMap'; metadata: { name: string; namespace: string } };
}

export function applySetFor(layer: string): ApplySet {
  const name = `groundwork-${layer}`;
  return { id: applySetId(name, PARENT_NAMESPACE, 'ConfigMap', ''), parent: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: PARENT_NAMESPACE } } };
}

export interface Inventory {
  groupKinds: string[];
  namespaces: string[];
}

const split = (value: string | undefined) => (value ? value.split(',').filter(Boolean) : []);

/** What the parent says the set contained after the last apply (empty when there is no parent yet). */
export async function readInventory(api: KubeApi, set: ApplySet): Promise<{ inventory: Inventory; tooling?: string }> {
  const parent = await api.get(set.parent);
  const annotations = parent?.metadata.annotations ?? {};
  return {
    inventory: { groupKinds: split(annotations[APPLYSET.groupKinds]), namespaces: split(annotations[APPLYSET.namespaces]) },
    ...(parent ? { tooling: annotations[APPLYSET.tooling] } : {}),
  };
}

export function parentObject(set: ApplySet, cluster: string, layer: string, inventory: Inventory): KubeObject {
  return {
    ...set.parent,
    metadata: {
      ...set.parent.metadata,
      labels: { [APPLYSET.id]: set.id, [LABELS.managedBy]: MANAGED_BY, [LABELS.layer]: layer, [LABELS.cluster]: cluster },
      annotations: {
        [APPLYSET.tooling]: TOOLING,
        [APPLYSET.groupKinds]: [...new Set(inventory.groupKinds)].sort().join(','),
        [APPLYSET.namespaces]: [...new Set(inventory.namespaces)].filter((n) => n !== PARENT_NAMESPACE).sort().join(','),
      },
    },
  };
}

export function union(a: Inventory, b: Inventory): Inventory {
  return { groupKinds: [...new Set([...a.groupKinds, ...b.groupKinds])], namespaces: [...new Set([...a.namespaces, ...b.namespaces])] };
}

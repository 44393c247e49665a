import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { clusterMeta, meta, type App } from './labels.ts';

/** `rule(['', 'apps'], ['pods'], 'get list watch')`: one RBAC rule, verbs as a space-separated list. */
export function rule(apiGroups: string[], resources: string[], verbs: string, resourceNames?: string[]): IPolicyRule {
  return { apiGroups, resources, verbs: verbs.split(/\s+/).filter(Boolean), ...(resourceNames ? { resourceNames } : {}) };
}

export const READ = 'get list watch';

/** A ClusterRole for the app's ServiceAccount and the binding that grants it. */
export function clusterAccess(app: App, rules: IPolicyRule[], options: { name?: string; serviceAccount?: string } = {}): [IClusterRole, IClusterRoleBinding] {
  const name = options.name ?? app.name;
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: clusterMeta(app, name), rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: clusterMeta(app, name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount ?? app.name, namespace: app.namespace }],
    },
  ];
}

/** A Role in the app's namespace (or `namespace`) and its binding. */
export function namespaceAccess(app: App, rules: IPolicyRule[], options: { name?: string; serviceAccount?: string; namespace?: string } = {}): [IRole, IRoleBinding] {
  const name = options.name ?? app.name;
  const target = { ...app, namespace: options.namespace ?? app.namespace };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(target, name), rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(target, name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount ?? app.name, namespace: app.namespace }],
    },
  ];
}

/** Binds an existing (usually built-in) role to the app's ServiceAccount. */
export function bindExisting(
  app: App,
  role: { kind: 'ClusterRole' | 'Role'; name: string },
  scope: { cluster: true; name: string } | { namespace: string; name: string },
): IClusterRoleBinding | IRoleBinding {
  const subjects = [{ kind: 'ServiceAccount', name: app.name, namespace: app.namespace }];
  const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name: role.name };
  if ('cluster' in scope) {
    return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: clusterMeta(app, scope.name), roleRef, subjects };
  }
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta({ ...app, namespace: scope.namespace }, scope.name), roleRef, subjects };
}

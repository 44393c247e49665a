import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { clusterMeta, meta, objectName, type App } from './labels.ts';

/** `rule(['', 'apps'], ['pods'], 'get list watch')`: one RBAC rule, verbs as a space-separated list. */
export function rule(apiGroups: string[], resources: string[], verbs: string, resourceNames?: string[]): IPolicyRule {
  return { apiGroups, resources, verbs: verbs.split(/\s+/).filter(Boolean), ...(resourceNames ? { resourceNames } : {}) };
}

export const READ = 'get list watch';

const RBAC = 'rbac.authorization.k8s.io';

/** A role with `rules` and the binding that grants it to the app's ServiceAccount (cluster-wide or in one namespace). */
function grant(app: App, rules: IPolicyRule[], scope: { namespace?: string }, options: { name?: string; serviceAccount?: string }) {
  const name = options.name ?? objectName(app);
  const metadata = scope.namespace ? meta({ ...app, namespace: scope.namespace }, name) : clusterMeta(app, name);
  const [roleKind, bindingKind] = scope.namespace ? (['Role', 'RoleBinding'] as const) : (['ClusterRole', 'ClusterRoleBinding'] as const);
  return [
    { apiVersion: `${RBAC}/v1`, kind: roleKind, metadata, rules },
    {
      apiVersion: `${RBAC}/v1`,
      kind: bindingKind,
      metadata,
      roleRef: { apiGroup: RBAC, kind: roleKind, name },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount ?? objectName(app), namespace: app.namespace }],
    },
  ] as const;
}

/** A ClusterRole for the app's ServiceAccount and the binding that grants it. */
export function clusterAccess(app: App, rules: IPolicyRule[], options: { name?: string; serviceAccount?: string } = {}): [IClusterRole, IClusterRoleBinding] {
  return grant(app, rules, {}, options) as unknown as [IClusterRole, IClusterRoleBinding];
}

/** A Role in the app's namespace (or `namespace`) and its binding. */
export function namespaceAccess(app: App, rules: IPolicyRule[], options: { name?: string; serviceAccount?: string; namespace?: string } = {}): [IRole, IRoleBinding] {
  return grant(app, rules, { namespace: options.namespace ?? app.namespace }, options) as unknown as [IRole, IRoleBinding];
}

/** Binds an existing (usually built-in) role to the app's ServiceAccount. */
export function bindExisting(
  app: App,
  role: { kind: 'ClusterRole' | 'Role'; name: string },
  scope: { cluster: true; name: string } | { namespace: string; name: string },
): IClusterRoleBinding | IRoleBinding {
  const subjects = [{ kind: 'ServiceAccount', name: objectName(app), namespace: app.namespace }];
  const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name: role.name };
  if ('cluster' in scope) {
    return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: clusterMeta(app, scope.name), roleRef, subjects };
  }
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta({ ...app, namespace: scope.namespace }, scope.name), roleRef, subjects };
}

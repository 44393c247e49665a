/** The API resources the test server serves, as discovery lists them. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const r = (group: string, version: string, kind: string, plural: string, namespaced: boolean): ResourceType => ({ group, version, kind, plural, namespaced });

export const BUILTIN_RESOURCES: ResourceType[] = [
  r('', 'v1', 'Namespace', 'namespaces', false),
  r('', 'v1', 'Node', 'nodes', false),
  r('', 'v1', 'PersistentVolume', 'persistentvolumes', false),
  r('', 'v1', 'ConfigMap', 'configmaps', true),
  r('', 'v1', 'Secret', 'secrets', true),
  r('', 'v1', 'Service', 'services', true),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true),
  r('', 'v1', 'Pod', 'pods', true),
  r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true),
  r('', 'v1', 'Endpoints', 'endpoints', true),
  r('', 'v1', 'Event', 'events', true),
  r('', 'v1', 'ResourceQuota', 'resourcequotas', true),
  r('', 'v1', 'LimitRange', 'limitranges', true),
  r('apps', 'v1', 'Deployment', 'deployments', true),
  r('apps', 'v1', 'StatefulSet', 'statefulsets', true),
  r('apps', 'v1', 'DaemonSet', 'daemonsets', true),
  r('apps', 'v1', 'ReplicaSet', 'replicasets', true),
  r('batch', 'v1', 'Job', 'jobs', true),
  r('batch', 'v1', 'CronJob', 'cronjobs', true),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  r('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true),
  r('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true),
  r('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false),
  r('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false),
  r('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false),
  r('apiregistration.k8s.io', 'v1', 'APIService', 'apiservices', false),
  r('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  r('certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', false),
];

export const groupVersion = (t: Pick<ResourceType, 'group' | 'version'>) => (t.group ? `${t.group}/${t.version}` : t.version);

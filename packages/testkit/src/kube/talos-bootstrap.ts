import { parseAllDocuments } from 'yaml';
import type { KubeObject, TestClient } from './client.ts';
import { nthAddress } from './files.ts';
import type { ControlPlaneSpec } from './talos-spec.ts';

/**
 * A stand-in for what Talos v1.13.9's machined puts into a new cluster, which cannot run here: its bootstrap
 * manifests (internal/app/machined/pkg/controllers/k8s/internal/k8stemplates: the bootstrap token, the CSR
 * RBAC, CoreDNS, flannel when it is the CNI, kube-proxy unless disabled, the talos.dev ServiceAccount CRD when
 * Kubernetes may reach the Talos API) and the control-plane static pods, whose mirror pods hold their requests
 * on each control-plane node. Only what another component can observe is reproduced: names, scheduling
 * constraints, requests; not the programs' arguments or images' behaviour.
 */

type Tree = Record<string, unknown>;
const TALOS = { 'app.kubernetes.io/managed-by': 'Talos' };
const SYSTEM = 'kube-system';

function mainDocument(text: string): Tree {
  const doc = parseAllDocuments(text).map((d) => d.toJSON() as Tree).find((d) => d?.version === 'v1alpha1');
  if (!doc) throw new Error('machine config: no v1alpha1 document');
  return doc;
}

const get = (tree: Tree, path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Tree)[key] : undefined), tree);

const resources = (cpu: string | undefined, memory: string, memoryLimit?: string) => ({ requests: { ...(cpu ? { cpu } : {}), memory }, ...(memoryLimit ? { limits: { memory: memoryLimit } } : {}) });

function coreDns(spec: ControlPlaneSpec): KubeObject[] {
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: SYSTEM } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:coredns' }, rules: [{ apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] }, { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'system:coredns' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' }, subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: SYSTEM }] },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: SYSTEM, labels },
      spec: {
        replicas: 2,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] }, topologyKey: 'kubernetes.io/hostname' } }] } },
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            tolerations: [
              { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
              { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists', effect: 'NoSchedule' },
            ],
            dnsPolicy: 'Default',
            containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.14.6', args: ['-conf', '/etc/coredns/Corefile'], resources: resources('100m', '70Mi', '170Mi') }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: SYSTEM, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        clusterIP: nthAddress(spec.serviceSubnets[0]!, 10),
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  ];
}

/** A DaemonSet on every Linux node tolerating every taint, as Talos's flannel and kube-proxy are. */
function nodeAgent(name: string, priorityClassName: string, containers: Array<{ name: string; cpu?: string; memory?: string }>): KubeObject[] {
  const labels = { 'k8s-app': name };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: SYSTEM } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: name === 'flannel' ? 'kube-flannel' : name, namespace: SYSTEM, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            priorityClassName,
            serviceAccountName: name,
            tolerations: [{ effect: 'NoSchedule', operator: 'Exists' }, { effect: 'NoExecute', operator: 'Exists' }],
            containers: containers.map((c) => ({ name: c.name, image: `talos-bootstrap/${c.name}`, ...(c.memory ? { resources: resources(c.cpu, c.memory) } : {}) })),
          },
        },
      },
    },
  ];
}

function talosApiAccess(controlPlaneIps: string[]): KubeObject[] {
  return [
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'serviceaccounts.talos.dev' },
      spec: {
        conversion: { strategy: 'None' },
        group: 'talos.dev',
        names: { kind: 'ServiceAccount', listKind: 'ServiceAccountList', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['tsa'] },
        scope: 'Namespaced',
        versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { roles: { type: 'array', items: { type: 'string' } } } }, status: { type: 'object', properties: { failureReason: { type: 'string' } } } } } } }],
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'talos', namespace: 'default', labels: { provider: 'talos.dev', component: 'apid' } }, spec: { ports: [{ name: 'apid', port: 50000, protocol: 'TCP', targetPort: 50000 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'talos-ipv4', namespace: 'default', labels: { 'kubernetes.io/service-name': 'talos', 'endpointslice.kubernetes.io/managed-by': 'talos.dev' } },
      addressType: 'IPv4',
      endpoints: controlPlaneIps.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true } })),
      ports: [{ name: 'apid', port: 50000, protocol: 'TCP' }],
    },
  ];
}

/** The mirror pods of Talos's control-plane static pods on one node, with Talos's default requests. */
function staticPods(node: string, version: string): KubeObject[] {
  const pod = (name: string, cpu: string, memory: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${name}-${node}`, namespace: SYSTEM, labels: { ...TALOS, tier: 'control-plane', 'k8s-app': name, component: name }, annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.mirror': `${name}-${node}` } },
    spec: { nodeName: node, hostNetwork: true, priorityClassName: 'system-cluster-critical', containers: [{ name, image: `registry.k8s.io/${name}:${version}`, resources: { requests: { cpu, memory } } }] },
  });
  return [pod('kube-apiserver', '200m', '512Mi'), pod('kube-controller-manager', '50m', '256Mi'), pod('kube-scheduler', '10m', '64Mi')];
}

export interface TalosNodeConfig {
  name: string;
  ip: string;
  machineConfig: string;
}

/** What Talos would have created by the time `talosctl kubeconfig` works, from the cluster's machine configs. */
export function talosBootstrapObjects(spec: ControlPlaneSpec, nodes: TalosNodeConfig[]): KubeObject[] {
  const controlPlanes = nodes.filter((n) => get(mainDocument(n.machineConfig), 'machine.type') === 'controlplane');
  const first = mainDocument(controlPlanes[0]!.machineConfig);
  const objects: KubeObject[] = [];
  const token = String(get(first, 'cluster.token') ?? '');
  const [tokenId, tokenSecret] = token.split('.');
  if (tokenId && tokenSecret) {
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `bootstrap-token-${tokenId}`, namespace: SYSTEM }, type: 'bootstrap.kubernetes.io/token', stringData: { 'token-id': tokenId, 'token-secret': tokenSecret, 'usage-bootstrap-authentication': 'true', 'auth-extra-groups': 'system:bootstrappers:nodes' } });
  }
  const binding = (name: string, role: string, groups: string[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: groups.map((g) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: g })) });
  objects.push(
    binding('system-bootstrap-node-bootstrapper', 'system:node-bootstrapper', ['system:bootstrappers:nodes', 'system:nodes']),
    binding('system-bootstrap-approve-node-client-csr', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', ['system:bootstrappers:nodes']),
    binding('system-bootstrap-node-renewal', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', ['system:nodes']),
  );
  if (get(first, 'cluster.coreDNS.disabled') !== true) objects.push(...coreDns(spec));
  const cni = (get(first, 'cluster.network.cni.name') as string | undefined) ?? 'flannel';
  if (cni === 'flannel') {
    const policies = get(first, 'cluster.network.cni.flannel.kubeNetworkPoliciesEnabled') === true;
    objects.push(...nodeAgent('flannel', 'system-node-critical', [{ name: 'kube-flannel', cpu: '100m', memory: '50Mi' }, ...(policies ? [{ name: 'kube-network-policies', cpu: '100m', memory: '50Mi' }] : [])]));
  }
  if (get(first, 'cluster.proxy.disabled') !== true) objects.push(...nodeAgent('kube-proxy', 'system-cluster-critical', [{ name: 'kube-proxy' }]));
  if (get(first, 'machine.features.kubernetesTalosAPIAccess.enabled') === true) objects.push(...talosApiAccess(controlPlanes.map((n) => n.ip)));
  for (const node of controlPlanes) objects.push(...staticPods(node.name, spec.kubernetesVersion));
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...TALOS, ...(o.metadata.labels ?? {}) } } }));
}

/** Applies them as Talos does: server-side apply under the field manager `talos`, CRDs established first. */
export async function applyTalosBootstrap(client: TestClient, objects: KubeObject[]): Promise<void> {
  for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
    await client.apply(crd, 'talos');
    await client.waitFor(`CRD ${crd.metadata.name} to be established`, async () => {
      const live = await client.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', crd.metadata.name);
      return ((live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }
  for (const object of objects.filter((o) => o.kind !== 'CustomResourceDefinition')) await client.apply(object, 'talos');
}

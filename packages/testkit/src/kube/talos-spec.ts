import { randomBytes } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { newCa, newRsaKey, type KeyPair } from './pki.ts';

/**
 * What Talos reads from a control plane's machine config to run etcd, kube-apiserver, kube-controller-manager
 * and kube-scheduler (the `cluster:` section). The test control plane starts from exactly this, so a wrong
 * rendered `cluster:` section shows up as a control plane that refuses to start or behaves differently.
 */

export interface AdmissionPlugin {
  name: string;
  configuration: Record<string, unknown>;
}

export interface ControlPlaneSpec {
  clusterName: string;
  /** cluster.controlPlane.endpoint: the service-account issuer and API audience Talos sets. */
  endpoint: string;
  /** The Kubernetes version the control-plane images pin (v1.36.3). */
  kubernetesVersion: string;
  ca: KeyPair;
  aggregatorCa: KeyPair;
  etcdCa: KeyPair;
  /** PEM, the service-account token signer. */
  serviceAccountKey: string;
  /** base64 32 bytes: Talos's secretbox encryption of Secrets at rest. */
  secretbox: string;
  certSans: string[];
  dnsDomain: string;
  podSubnets: string[];
  serviceSubnets: string[];
  admissionControl: AdmissionPlugin[];
  auditPolicy: Record<string, unknown>;
  apiServerArgs: Record<string, string>;
  controllerManagerArgs: Record<string, string>;
  schedulerArgs: Record<string, string>;
  schedulerConfig: Record<string, unknown>;
  etcdArgs: Record<string, string>;
}

/** Talos's default audit policy, used when the machine config sets none. */
const TALOS_DEFAULT_AUDIT_POLICY = { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };

type Tree = Record<string, unknown>;

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);

function at(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isTree(node) ? node[key] : undefined), tree);
}

function required<T>(tree: Tree, path: string, where: string): T {
  const value = at(tree, path);
  if (value === undefined || value === null || value === '') throw new Error(`${where}: ${path} is missing (Talos needs it on a control plane)`);
  return value as T;
}

const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

function keyPair(tree: Tree, path: string, where: string): KeyPair {
  return { crt: pem(required(tree, `${path}.crt`, where)), key: pem(required(tree, `${path}.key`, where)) };
}

function args(tree: Tree, path: string): Record<string, string> {
  const value = at(tree, path);
  return isTree(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])) : {};
}

/** The tag of an image reference (registry.k8s.io/kube-apiserver:v1.36.3 → v1.36.3). */
const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);

/** Reads a rendered control-plane machine config (all its documents; the v1alpha1 one holds `cluster:`). */
export function specFromMachineConfig(text: string, where = 'machine config'): ControlPlaneSpec {
  const documents = parseAllDocuments(text).map((d) => d.toJSON() as unknown);
  const config = documents.find((d): d is Tree => isTree(d) && d.version === 'v1alpha1');
  if (!config) throw new Error(`${where}: no v1alpha1 document`);
  if (at(config, 'machine.type') !== 'controlplane') throw new Error(`${where}: machine.type is ${String(at(config, 'machine.type'))}, not controlplane`);
  const cluster = required<Tree>(config, 'cluster', where);
  const image = required<string>(cluster, 'apiServer.image', `${where} cluster`);
  return {
    clusterName: required(cluster, 'clusterName', `${where} cluster`),
    endpoint: required(cluster, 'controlPlane.endpoint', `${where} cluster`),
    kubernetesVersion: tagOf(image),
    ca: keyPair(cluster, 'ca', `${where} cluster`),
    aggregatorCa: keyPair(cluster, 'aggregatorCA', `${where} cluster`),
    etcdCa: keyPair(cluster, 'etcd.ca', `${where} cluster`),
    serviceAccountKey: pem(required(cluster, 'serviceAccount.key', `${where} cluster`)),
    secretbox: required(cluster, 'secretboxEncryptionSecret', `${where} cluster`),
    certSans: (at(cluster, 'apiServer.certSANs') as string[] | undefined) ?? [],
    dnsDomain: (at(cluster, 'network.dnsDomain') as string | undefined) ?? 'cluster.local',
    podSubnets: (at(cluster, 'network.podSubnets') as string[] | undefined) ?? ['10.244.0.0/16'],
    serviceSubnets: (at(cluster, 'network.serviceSubnets') as string[] | undefined) ?? ['10.96.0.0/12'],
    admissionControl: (at(cluster, 'apiServer.admissionControl') as AdmissionPlugin[] | undefined) ?? [],
    auditPolicy: (at(cluster, 'apiServer.auditPolicy') as Tree | undefined) ?? TALOS_DEFAULT_AUDIT_POLICY,
    apiServerArgs: args(cluster, 'apiServer.extraArgs'),
    controllerManagerArgs: args(cluster, 'controllerManager.extraArgs'),
    schedulerArgs: args(cluster, 'scheduler.extraArgs'),
    schedulerConfig: (at(cluster, 'scheduler.config') as Tree | undefined) ?? {},
    etcdArgs: args(cluster, 'etcd.extraArgs'),
  };
}

/**
 * A control plane for tests that have no cluster of their own (the apply engine's): fresh CAs and keys,
 * Talos's defaults everywhere else, and Pod Security enforcing `restricted` as groundwork's clusters do.
 */
export function throwawaySpec(kubernetesVersion: string, name = 'test'): ControlPlaneSpec {
  return {
    clusterName: name,
    endpoint: 'https://127.0.0.1:6443',
    kubernetesVersion,
    ca: newCa('kubernetes'),
    aggregatorCa: newCa('front-proxy'),
    etcdCa: newCa('etcd'),
    serviceAccountKey: newRsaKey(),
    secretbox: randomBytes(32).toString('base64'),
    certSans: [],
    dnsDomain: 'cluster.local',
    podSubnets: ['10.244.0.0/16'],
    serviceSubnets: ['10.96.0.0/12'],
    admissionControl: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
          kind: 'PodSecurityConfiguration',
          defaults: { enforce: 'restricted', 'enforce-version': 'latest', audit: 'restricted', 'audit-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: ['kube-system'] },
        },
      },
    ],
    auditPolicy: {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      rules: [{ level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] }, { level: 'Request', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] }, { level: 'Metadata' }],
    },
    apiServerArgs: {},
    controllerManagerArgs: {},
    schedulerArgs: {},
    schedulerConfig: {},
    etcdArgs: {},
  };
}

import {
  apiEndpoint,
  controlPlanes,
  kubernetesVersion,
  nodeInstallDisk,
  type Cluster,
  type ClusterNode,
} from '@groundwork/cluster';
import type { SecretsBundle } from '../bundle/bundle.ts';
import { IMAGES, PORTS } from '../versions.ts';
import { machineLogging } from './logging.ts';
import { nodeImages } from './platform.ts';
import { auditPolicy, podSecurityDefaults } from './policies.ts';

/**
 * The v1alpha1 document for Talos contract v1.13, laid out as Talos's own generator does
 * (pkg/machinery/config/generate): fields in struct order, control-plane-only sections absent on workers,
 * and workers carrying the CA certificates without their keys.
 */

export interface NodeInput {
  cluster: Cluster;
  bundle: SecretsBundle;
  node: ClusterNode;
}

type Doc = Record<string, unknown>;

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/** The API endpoint's host, the VIP, every control-plane address and the kubeconfig's host, in that order, without repeats. */
export function certSans(cluster: Cluster): string[] {
  const endpointHost = new URL(apiEndpoint(cluster)).hostname;
  const kubeconfigHost = cluster.kubeconfigEndpoint ? new URL(cluster.kubeconfigEndpoint).hostname.replace(/^\[|\]$/g, '') : undefined;
  const sans = [endpointHost, cluster.network.vip?.address, ...controlPlanes(cluster).map((n) => n.ip), kubeconfigHost].filter((s): s is string => Boolean(s));
  return [...new Set(sans)];
}

function nodeTaints(node: ClusterNode): Doc | undefined {
  if (node.taints.length === 0) return undefined;
  return Object.fromEntries(node.taints.map((t) => [t.key, `${t.value ?? ''}:${t.effect}`]));
}

function install(input: NodeInput): Doc {
  const { node, cluster } = input;
  const disk = nodeInstallDisk(node);
  const selector = node.installDiskSelector;
  return compact({
    disk: node.platform === 'docker' ? undefined : disk,
    diskSelector: selector ? compact({ size: selector.size, model: selector.model, serial: selector.serial, wwid: selector.wwid, type: selector.type, busPath: selector.busPath }) : undefined,
    image: nodeImages(cluster, node).installer,
    wipe: false,
    grubUseUKICmdline: true,
  });
}

function kubelet(input: NodeInput): Doc {
  const { cluster } = input;
  const storage = cluster.features.localStorage;
  return compact({
    image: `${IMAGES.kubelet}:v${kubernetesVersion(cluster)}`,
    // Serving certificates signed by the cluster CA instead of self-signed ones, so metrics-server can verify kubelets.
    extraArgs: { 'rotate-server-certificates': 'true' },
    // local-path needs hostPath writable inside the kubelet, and Talos's own /var/mnt bind there is read-only.
    // Talos makes /var rshared, so a node's localStorageDisk user volume, mounted at hostPath, shows through.
    extraMounts: storage.enabled ? [{ destination: storage.hostPath, type: 'bind', source: storage.hostPath, options: ['bind', 'rshared', 'rw'] }] : undefined,
    defaultRuntimeSeccompProfileEnabled: true,
    nodeIP: { validSubnets: [cluster.network.nodeCidr] },
    disableManifestsDirectory: true,
  });
}

function features(input: NodeInput, controlPlane: boolean): Doc {
  const { cluster } = input;
  const dr = cluster.features.dr;
  return compact({
    // The dr layer's etcd backup jobs reach the Talos API from Kubernetes with the etcd:backup role only.
    kubernetesTalosAPIAccess: controlPlane && dr.enabled ? { enabled: true, allowedRoles: ['os:etcd:backup'], allowedKubernetesNamespaces: [dr.namespace] } : undefined,
    diskQuotaSupport: true,
    kubePrism: { enabled: true, port: PORTS.kubePrism },
    hostDNS: { enabled: true, forwardKubeDNSToHost: true },
  });
}

function machine(input: NodeInput, controlPlane: boolean): Doc {
  const { bundle, node, cluster } = input;
  const labels = { ...(controlPlane ? { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}), ...node.labels };
  return compact({
    type: controlPlane ? 'controlplane' : 'worker',
    token: bundle.trustdinfo.token,
    ca: { crt: b64(bundle.certs.os.crt), key: controlPlane ? b64(bundle.certs.os.key) : '' },
    certSANs: certSans(cluster),
    kubelet: kubelet(input),
    install: install(input),
    features: features(input, controlPlane),
    logging: machineLogging(cluster),
    nodeLabels: Object.keys(labels).length ? labels : undefined,
    nodeTaints: nodeTaints(node),
  });
}

function metricsArgs(cluster: Cluster): boolean {
  return cluster.features.observability.enabled && cluster.features.observability.controlPlaneMetrics;
}

function clusterSection(input: NodeInput, controlPlane: boolean): Doc {
  const { bundle, cluster } = input;
  const k8s = kubernetesVersion(cluster);
  const cilium = cluster.features.cilium;
  const metrics = metricsArgs(cluster);
  const common = {
    id: bundle.cluster.id,
    secret: bundle.cluster.secret,
    controlPlane: { endpoint: apiEndpoint(cluster) },
    clusterName: cluster.name,
    network: compact({
      // Cilium is installed by platform-core: Talos must not deploy flannel.
      cni: cilium.enabled ? { name: 'none' } : undefined,
      dnsDomain: 'cluster.local',
      podSubnets: [cluster.network.podCidr],
      serviceSubnets: [cluster.network.serviceCidr],
    }),
    token: bundle.secrets.bootstraptoken,
  };
  if (!controlPlane) {
    return compact({ ...common, ca: { crt: b64(bundle.certs.k8s.crt), key: '' }, discovery: discovery() });
  }
  return compact({
    ...common,
    // Secrets in etcd are encrypted at rest with this secretbox key (Talos's EncryptionConfiguration).
    secretboxEncryptionSecret: bundle.secrets.secretboxencryptionsecret,
    ca: { crt: b64(bundle.certs.k8s.crt), key: b64(bundle.certs.k8s.key) },
    aggregatorCA: { crt: b64(bundle.certs.k8saggregator.crt), key: b64(bundle.certs.k8saggregator.key) },
    serviceAccount: { key: b64(bundle.certs.k8sserviceaccount.key) },
    apiServer: {
      image: `${IMAGES.apiServer}:v${k8s}`,
      certSANs: certSans(cluster),
      admissionControl: [{ name: 'PodSecurity', configuration: podSecurityDefaults() }],
      auditPolicy: auditPolicy(),
    },
    controllerManager: compact({ image: `${IMAGES.controllerManager}:v${k8s}`, extraArgs: metrics ? { 'bind-address': '0.0.0.0' } : undefined }),
    proxy: cilium.enabled && cilium.kubeProxyReplacement ? { disabled: true } : { image: `${IMAGES.proxy}:v${k8s}` },
    scheduler: compact({ image: `${IMAGES.scheduler}:v${k8s}`, extraArgs: metrics ? { 'bind-address': '0.0.0.0' } : undefined }),
    discovery: discovery(),
    etcd: compact({
      ca: { crt: b64(bundle.certs.etcd.crt), key: b64(bundle.certs.etcd.key) },
      extraArgs: metrics ? { 'listen-metrics-urls': `http://0.0.0.0:${PORTS.etcdMetrics}` } : undefined,
    }),
    allowSchedulingOnControlPlanes: cluster.controlPlane.allowWorkloads ? true : undefined,
  });
}

function discovery(): Doc {
  return { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } };
}

export function v1alpha1Document(input: NodeInput): Doc {
  const controlPlane = input.node.role === 'controlplane';
  // Talos's generator still writes `persist: true`, a no-op its own v1.13 schema no longer lists: left out.
  return { version: 'v1alpha1', debug: false, machine: machine(input, controlPlane), cluster: clusterSection(input, controlPlane) };
}

/** Drops undefined fields so that absent settings are absent from the YAML, not written as null. */
export function compact(doc: Record<string, unknown>): Doc {
  return Object.fromEntries(Object.entries(doc).filter(([, value]) => value !== undefined));
}

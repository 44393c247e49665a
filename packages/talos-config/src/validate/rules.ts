import type { ClusterNode } from '@groundwork/cluster';
import { documentKind } from './schema.ts';

/**
 * What a Talos node checks when it decodes a config (v1alpha1_validation.go and the document loader), beyond
 * the schema: one document per kind and name, a valid https endpoint, an install disk on real hardware, CA keys
 * only on control planes, a known CNI, valid tokens and PEM material, user volumes Talos can provision.
 */

type Doc = Record<string, unknown>;

const TOKEN = /^[0-9a-z]{6}\.[0-9a-z]{16}$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

function get(doc: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Doc)[key] : undefined), doc);
}

function isPemBase64(value: unknown): boolean {
  return typeof value === 'string' && Buffer.from(value, 'base64').toString('utf8').startsWith('-----BEGIN ');
}

const CONTROL_PLANE_ONLY = ['secretboxEncryptionSecret', 'aggregatorCA', 'serviceAccount', 'apiServer', 'controllerManager', 'scheduler', 'proxy', 'etcd'];

/** block.UserVolumeConfigV1Alpha1.Validate: the name becomes the partition label u-<name> (36 characters at most). */
function userVolumeProblems(doc: Doc): string[] {
  const id = `UserVolumeConfig/${String(doc.name)}`;
  const problems: string[] = [];
  if (!/^[A-Za-z0-9-]{1,34}$/.test(String(doc.name ?? ''))) problems.push(`${id}: name must be 1 to 34 letters, digits or "-"`);
  const type = doc.volumeType ?? 'partition';
  if ((type === 'partition' || type === 'disk') && !get(doc, 'provisioning.diskSelector.match')) problems.push(`${id}: provisioning.diskSelector.match is required`);
  if (type === 'partition' && !get(doc, 'provisioning.minSize') && !get(doc, 'provisioning.maxSize')) problems.push(`${id}: a partition needs provisioning.minSize or maxSize`);
  return problems;
}

export function talosRuleProblems(docs: Doc[], node: ClusterNode): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const doc of docs) {
    const id = `${documentKind(doc)}${typeof doc.name === 'string' ? `/${doc.name}` : ''}`;
    if (seen.has(id)) problems.push(`duplicate document ${id} is not allowed`);
    seen.add(id);
    if (documentKind(doc) === 'Layer2VIPConfig' && node.role !== 'controlplane') problems.push(`Layer2VIPConfig/${String(doc.name)}: a VIP belongs on control planes only`);
    if (documentKind(doc) === 'UserVolumeConfig') problems.push(...userVolumeProblems(doc));
  }
  const config = docs.find((d) => documentKind(d) === 'v1alpha1');
  if (!config) return [...problems, 'the v1alpha1 document is missing'];
  const controlPlane = node.role === 'controlplane';
  if (!get(config, 'machine')) problems.push('machine: required');
  if (!get(config, 'cluster')) problems.push('cluster: required');
  const type = get(config, 'machine.type');
  if (type !== (controlPlane ? 'controlplane' : 'worker')) problems.push(`machine.type: ${String(type)} does not match the node's role ${node.role}`);

  const endpoint = get(config, 'cluster.controlPlane.endpoint');
  try {
    const url = new URL(String(endpoint));
    if (url.protocol !== 'https:' || url.port === '') problems.push(`cluster.controlPlane.endpoint: ${String(endpoint)} must be https:// with a port`);
  } catch {
    problems.push(`cluster.controlPlane.endpoint: ${String(endpoint)} is not a URL`);
  }

  if (node.platform !== 'docker') {
    const install = get(config, 'machine.install') as Doc | undefined;
    if (!install || (!install.disk && !install.diskSelector)) problems.push('machine.install: disk or diskSelector is required on a machine that installs Talos');
    if (install?.extraKernelArgs && install.grubUseUKICmdline) problems.push('machine.install: extraKernelArgs and grubUseUKICmdline cannot both be set');
    if (install && !install.image) problems.push('machine.install.image: required');
  }

  if (!isPemBase64(get(config, 'machine.ca.crt'))) problems.push('machine.ca.crt: must be base64 of a PEM certificate');
  if (controlPlane) {
    for (const path of ['machine.ca.key', 'cluster.ca.key', 'cluster.aggregatorCA.key', 'cluster.serviceAccount.key', 'cluster.etcd.ca.key']) {
      if (!isPemBase64(get(config, path))) problems.push(`${path}: a control plane needs this key`);
    }
  } else {
    if (get(config, 'machine.ca.key')) problems.push('machine.ca.key: a worker must not carry the Talos CA key');
    if (get(config, 'cluster.ca.key')) problems.push('cluster.ca.key: a worker must not carry the Kubernetes CA key');
    for (const field of CONTROL_PLANE_ONLY) if (get(config, `cluster.${field}`) !== undefined) problems.push(`cluster.${field}: control planes only`);
  }

  const cni = get(config, 'cluster.network.cni') as Doc | undefined;
  if (cni) {
    if (!['flannel', 'custom', 'none'].includes(String(cni.name))) problems.push(`cluster.network.cni.name: ${String(cni.name)} must be flannel, custom or none`);
    if (cni.name === 'custom' && !(Array.isArray(cni.urls) && cni.urls.length)) problems.push('cluster.network.cni.urls: required with the custom CNI');
  }
  const domain = get(config, 'cluster.network.dnsDomain');
  if (typeof domain !== 'string' || !DNS_NAME.test(domain)) problems.push(`cluster.network.dnsDomain: ${String(domain)} is not a DNS name`);
  for (const path of ['machine.token', 'cluster.token']) {
    if (!TOKEN.test(String(get(config, path)))) problems.push(`${path}: must look like abcdef.0123456789abcdef`);
  }
  return problems;
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { issueLeaf, publicKeyOf, type KeyPair } from './pki.ts';
import type { ControlPlaneSpec } from './talos-spec.ts';

/**
 * The files Talos writes for its control plane (secrets under /system/secrets/kubernetes/<component>, configs under
 * /system/config/kubernetes/<component>, etcd's PKI under /system/secrets/etcd), written into a test folder from
 * the cluster's spec, with the leaf certificates Talos would issue.
 */

export interface ControlPlaneFiles {
  dir: string;
  secrets: (component: string, file: string) => string;
  config: (component: string, file: string) => string;
  /** The client certificate Talos's `talosctl kubeconfig` hands out: CN admin, O system:masters. */
  admin: KeyPair;
  /**
   * Identities of the test's own helpers, so the audit log tells their requests from the code under test's:
   * kwok (the kubelets) and the test harness (seeding, reading back).
   */
  kwok: KeyPair;
  harness: KeyPair;
}

/** The first and the tenth address of a service CIDR (the `kubernetes` Service and, in Talos, kube-dns). */
export function nthAddress(cidr: string, n: number): string {
  const [base] = cidr.split('/');
  const value = base!.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0) + n;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function kubeconfigText(name: string, server: string, ca: string, client: KeyPair): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(ca) } }],
    users: [{ name: `admin@${name}`, user: { 'client-certificate-data': b64(client.crt), 'client-key-data': b64(client.key) } }],
    contexts: [{ name: `admin@${name}`, context: { cluster: name, user: `admin@${name}`, namespace: 'default' } }],
    'current-context': `admin@${name}`,
  });
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode: 0o600 });
}

export function writeControlPlaneFiles(dir: string, spec: ControlPlaneSpec, apiServerUrl: string): ControlPlaneFiles {
  const secrets = (component: string, file: string) => join(dir, 'secrets', component, file);
  const config = (component: string, file: string) => join(dir, 'config', component, file);
  const endpointHost = new URL(spec.endpoint).hostname;
  const serviceIps = spec.serviceSubnets.filter((s) => !s.includes(':')).map((s) => nthAddress(s, 1));
  const isIp = (name: string) => /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(':');
  const names = [endpointHost, ...spec.certSans, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${spec.dnsDomain}`, 'localhost', ...serviceIps, '127.0.0.1'];
  const serving = issueLeaf(spec.ca, {
    commonName: 'kube-apiserver',
    organizations: ['kube-master'],
    dnsNames: [...new Set(names.filter((n) => !isIp(n)))],
    ips: [...new Set(names.filter(isIp))],
    usages: ['serverAuth'],
  });
  const apiServer = 'kube-apiserver';
  write(secrets(apiServer, 'ca.crt'), spec.ca.crt);
  write(secrets(apiServer, 'apiserver.crt'), serving.crt);
  write(secrets(apiServer, 'apiserver.key'), serving.key);
  const kubeletClient = issueLeaf(spec.ca, { commonName: 'apiserver-kubelet-client', organizations: ['system:masters'], usages: ['clientAuth'] });
  write(secrets(apiServer, 'apiserver-kubelet-client.crt'), kubeletClient.crt);
  write(secrets(apiServer, 'apiserver-kubelet-client.key'), kubeletClient.key);
  const frontProxy = issueLeaf(spec.aggregatorCa, { commonName: 'front-proxy-client', usages: ['clientAuth'] });
  write(secrets(apiServer, 'front-proxy-client.crt'), frontProxy.crt);
  write(secrets(apiServer, 'front-proxy-client.key'), frontProxy.key);
  write(secrets(apiServer, 'aggregator-ca.crt'), spec.aggregatorCa.crt);
  const etcdClient = issueLeaf(spec.etcdCa, { commonName: 'kube-apiserver', usages: ['clientAuth'] });
  write(secrets(apiServer, 'etcd-client-ca.crt'), spec.etcdCa.crt);
  write(secrets(apiServer, 'etcd-client.crt'), etcdClient.crt);
  write(secrets(apiServer, 'etcd-client.key'), etcdClient.key);
  write(secrets(apiServer, 'service-account.key'), spec.serviceAccountKey);
  write(secrets(apiServer, 'service-account.pub'), publicKeyOf(spec.serviceAccountKey));
  // Talos still writes the encryption config under its legacy kind (apiVersion v1, kind EncryptionConfig).
  write(
    secrets(apiServer, 'encryptionconfig.yaml'),
    stringify({ apiVersion: 'v1', kind: 'EncryptionConfig', resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'key2', secret: spec.secretbox }] } }, { identity: {} }] }] }),
  );
  write(config(apiServer, 'admission-control-config.yaml'), stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AdmissionConfiguration', plugins: spec.admissionControl }));
  write(config(apiServer, 'auditpolicy.yaml'), stringify(spec.auditPolicy));
  write(
    config(apiServer, 'authorization-config.yaml'),
    stringify({ apiVersion: 'apiserver.config.k8s.io/v1beta1', kind: 'AuthorizationConfiguration', authorizers: [{ type: 'Node', name: 'node' }, { type: 'RBAC', name: 'rbac' }] }),
  );

  const controllerManager = 'kube-controller-manager';
  write(secrets(controllerManager, 'ca.crt'), spec.ca.crt);
  write(secrets(controllerManager, 'ca.key'), spec.ca.key);
  write(secrets(controllerManager, 'service-account.key'), spec.serviceAccountKey);
  const cmClient = issueLeaf(spec.ca, { commonName: 'system:kube-controller-manager', organizations: ['system:kube-controller-manager'], usages: ['clientAuth'] });
  write(secrets(controllerManager, 'kubeconfig'), kubeconfigText(spec.clusterName, apiServerUrl, spec.ca.crt, cmClient));

  const scheduler = 'kube-scheduler';
  const schedulerClient = issueLeaf(spec.ca, { commonName: 'system:kube-scheduler', organizations: ['system:kube-scheduler'], usages: ['clientAuth'] });
  write(secrets(scheduler, 'kubeconfig'), kubeconfigText(spec.clusterName, apiServerUrl, spec.ca.crt, schedulerClient));
  write(
    config(scheduler, 'scheduler-config.yaml'),
    stringify({ ...spec.schedulerConfig, apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration', clientConnection: { ...((spec.schedulerConfig.clientConnection as object) ?? {}), kubeconfig: secrets(scheduler, 'kubeconfig') } }),
  );

  const etcdServer = issueLeaf(spec.etcdCa, { commonName: spec.clusterName, dnsNames: ['localhost'], ips: ['127.0.0.1', '::1'], usages: ['serverAuth', 'clientAuth'] });
  const etcdPeer = issueLeaf(spec.etcdCa, { commonName: spec.clusterName, ips: ['127.0.0.1'], usages: ['serverAuth', 'clientAuth'] });
  write(secrets('etcd', 'ca.crt'), spec.etcdCa.crt);
  write(secrets('etcd', 'server.crt'), etcdServer.crt);
  write(secrets('etcd', 'server.key'), etcdServer.key);
  write(secrets('etcd', 'peer.crt'), etcdPeer.crt);
  write(secrets('etcd', 'peer.key'), etcdPeer.key);

  const admin = issueLeaf(spec.ca, { commonName: 'admin', organizations: ['system:masters'], usages: ['clientAuth'] });
  const kwok = issueLeaf(spec.ca, { commonName: 'kwok', organizations: ['system:masters'], usages: ['clientAuth'] });
  const harness = issueLeaf(spec.ca, { commonName: 'test-harness', organizations: ['system:masters'], usages: ['clientAuth'] });
  return { dir, secrets, config, admin, kwok, harness };
}

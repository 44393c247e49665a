/** @groundwork/talos-config: what other layers use (the dr layer's etcd snapshots go through TalosClient). */
export { TalosClient, TalosApiError } from './api/client.ts';
export type { ApplyMode, Credentials, Target, EtcdMember, EtcdMemberStatus } from './api/client.ts';
export { etcdProblems, memberIdHex } from './day2/etcd.ts';
export { loadTalosSecrets } from './talos-secrets.ts';
export { adminClient, adminClientFor, adminCredentials } from './api/admin.ts';
export type { TalosSecrets } from './talos-secrets.ts';
export { LAYER as TALOS_LAYER } from './layer.ts';
export { kubeCredentialsFromKubeconfig, kubeGet } from './api/kube.ts';
export type { PemPair, SecretsBundle } from './bundle/bundle.ts';

/**
 * Talos's command lines for the control plane (internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go
 * at v1.13.9), with the machine config's extraArgs merged by Talos's rules: some flags add to Talos's value, some
 * replace it, and some may not be set at all (Talos refuses the config).
 */

export type MergePolicy = 'additive' | 'denied' | 'append';

export type Args = Record<string, string>;

export function mergeArgs(base: Args, extra: Args, policies: Record<string, MergePolicy>, where: string): Args {
  const merged = { ...base };
  for (const [flag, value] of Object.entries(extra)) {
    const policy = policies[flag];
    if (policy === 'denied') throw new Error(`${where}: extraArgs may not set ${flag} (Talos refuses to merge it)`);
    if ((policy === 'additive' || policy === 'append') && merged[flag]) {
      const values = [...merged[flag]!.split(','), ...value.split(',')];
      merged[flag] = (policy === 'additive' ? [...new Set(values)] : values).join(',');
    } else merged[flag] = value;
  }
  return merged;
}

export const toArgv = (args: Args): string[] =>
  Object.keys(args)
    .sort()
    .map((flag) => `--${flag}=${args[flag]}`);

export const API_SERVER_POLICIES: Record<string, MergePolicy> = {
  'enable-admission-plugins': 'additive',
  'feature-gates': 'additive',
  'authorization-mode': 'additive',
  'tls-cipher-suites': 'additive',
  'service-account-issuer': 'append',
  ...Object.fromEntries(
    [
      'etcd-servers', 'client-ca-file', 'requestheader-client-ca-file', 'proxy-client-cert-file', 'proxy-client-key-file', 'encryption-provider-config',
      'etcd-cafile', 'etcd-certfile', 'etcd-keyfile', 'kubelet-client-certificate', 'kubelet-client-key', 'service-account-key-file',
      'service-account-signing-key-file', 'tls-cert-file', 'tls-private-key-file', 'authorization-config',
    ].map((flag) => [flag, 'denied' as const]),
  ),
};

export const CONTROLLER_MANAGER_POLICIES: Record<string, MergePolicy> = {
  'service-cluster-ip-range': 'additive',
  controllers: 'additive',
  ...Object.fromEntries(
    ['cluster-signing-cert-file', 'cluster-signing-key-file', 'authentication-kubeconfig', 'authorization-kubeconfig', 'root-ca-file', 'service-account-private-key-file'].map((flag) => [flag, 'denied' as const]),
  ),
};

export const SCHEDULER_POLICIES: Record<string, MergePolicy> = Object.fromEntries(['kubeconfig', 'authentication-kubeconfig', 'authorization-kubeconfig', 'config'].map((flag) => [flag, 'denied' as const]));

export const TLS_CIPHER_SUITES = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
].join(',');

/**
 * Flags the tests change, and why: everything listens on loopback only and on ports of its own (several control
 * planes may run at once on one machine), and files live in the test's folder instead of /system.
 */
export const LOOPBACK_OVERRIDES = ['bind-address', 'secure-port', 'etcd-servers', 'advertise-address', 'audit-log-path', 'listen-client-urls', 'listen-peer-urls', 'listen-metrics-urls'] as const;

/**
 * Every image platform-core deploys, in one place. Renovate's regex manager (renovate.json) bumps the
 * tags here; nothing else in the layer names a version.
 */
export const IMAGES = {
  cilium: 'quay.io/cilium/cilium:v1.19.6',
  ciliumOperator: 'quay.io/cilium/operator-generic:v1.19.6',
  metricsServer: 'registry.k8s.io/metrics-server/metrics-server:v0.9.0',
  kubeletServingCertApprover: 'ghcr.io/alex1989hu/kubelet-serving-cert-approver:0.11.0',
  localPathProvisioner: 'docker.io/rancher/local-path-provisioner:v0.0.37',
  /** Runs the local-path helper pods that create and remove volume directories on the node. */
  busybox: 'docker.io/library/busybox:1.37.0',
  traefik: 'docker.io/library/traefik:v3.7.13',
  cloudflared: 'docker.io/cloudflare/cloudflared:2026.6.1',
} as const;

/** The tag of an image reference, for app.kubernetes.io/version. */
/** The tag of an image: the one reader of image references is the kube library's. */
export { imageTag as tagOf } from '@groundwork/kube';

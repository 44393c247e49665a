/**
 * Images and components talos-config refers to, in one place. Versions of Talos and Kubernetes come from
 * the cluster file (versions.talos, versions.kubernetes); what is pinned here is where images live and
 * which Image Factory pieces each platform needs.
 */

export const IMAGES = {
  installer: 'ghcr.io/siderolabs/installer',
  talos: 'ghcr.io/siderolabs/talos',
  kubelet: 'ghcr.io/siderolabs/kubelet',
  apiServer: 'registry.k8s.io/kube-apiserver',
  controllerManager: 'registry.k8s.io/kube-controller-manager',
  scheduler: 'registry.k8s.io/kube-scheduler',
  proxy: 'registry.k8s.io/kube-proxy',
} as const;

export const IMAGE_FACTORY = {
  host: 'factory.talos.dev',
  /** Installer for a schematic: factory.talos.dev/installer/<id>:<talos version>. */
  installer: (schematic: string, version: string) => `factory.talos.dev/installer/${schematic}:${version}`,
  /** Disk image to flash (e.g. a Raspberry Pi SD card). */
  diskImage: (schematic: string, version: string, arch: string) => `https://factory.talos.dev/image/${schematic}/${version}/metal-${arch}.raw.xz`,
  /** ISO to boot a VM or a mini-PC from. */
  iso: (schematic: string, version: string, arch: string) => `https://factory.talos.dev/image/${schematic}/${version}/metal-${arch}.iso`,
} as const;

/** Board overlays (Image Factory `overlay`), by platform. */
export const OVERLAYS = {
  rpi4: { image: 'siderolabs/sbc-raspberrypi', name: 'rpi_generic' },
} as const;

/** System extensions every node of a platform gets. */
export const PLATFORM_EXTENSIONS = {
  proxmox: ['siderolabs/qemu-guest-agent'],
} as const;

/** Talos API and Kubernetes ports (Talos constants). */
export const PORTS = { apid: 50000, trustd: 50001, kubernetes: 6443, kubePrism: 7445, etcdMetrics: 2381 } as const;

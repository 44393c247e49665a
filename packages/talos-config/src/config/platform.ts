import { createHash } from 'node:crypto';
import { nodeArch, talosVersion, type Cluster, type ClusterNode } from '@groundwork/cluster';
import { IMAGE_FACTORY, IMAGES, OVERLAYS, PLATFORM_EXTENSIONS } from '../versions.ts';

/**
 * Image Factory schematics, computed offline: the ID is the SHA-256 of the schematic as go-yaml marshals it
 * (image-factory pkg/schematic ID()): fields in struct order (overlay, customization), 4-space indent,
 * indented sequences, empty fields left out.
 */
export interface Schematic {
  overlay?: { image: string; name: string };
  extensions: string[];
}

export function schematicFor(node: ClusterNode): Schematic {
  const platformExtensions: readonly string[] = node.platform === 'proxmox' ? PLATFORM_EXTENSIONS.proxmox : [];
  const extensions = [...new Set([...platformExtensions, ...node.extensions])].sort();
  return node.platform === 'rpi4' ? { overlay: { ...OVERLAYS.rpi4 }, extensions } : { extensions };
}

export function schematicYaml(schematic: Schematic): string {
  let out = '';
  if (schematic.overlay) out += `overlay:\n    image: ${schematic.overlay.image}\n    name: ${schematic.overlay.name}\n`;
  if (schematic.extensions.length === 0) return `${out}customization: {}\n`;
  out += 'customization:\n    systemExtensions:\n        officialExtensions:\n';
  for (const extension of schematic.extensions) out += `            - ${extension}\n`;
  return out;
}

export function schematicId(schematic: Schematic): string {
  return createHash('sha256').update(schematicYaml(schematic)).digest('hex');
}

export interface NodeImages {
  schematic: Schematic;
  schematicId: string;
  /** machine.install.image */
  installer: string;
  /** What to flash or boot for the first install (Docker nodes run the Talos container image instead). */
  bootMedia: string;
}

/** Nodes without overlay or extensions use the stock installer; others the Image Factory one. */
export function nodeImages(cluster: Cluster, node: ClusterNode): NodeImages {
  const version = talosVersion(cluster);
  const schematic = schematicFor(node);
  const id = schematicId(schematic);
  const stock = !schematic.overlay && schematic.extensions.length === 0;
  const arch = nodeArch(node);
  let bootMedia: string;
  if (node.platform === 'docker') bootMedia = `${IMAGES.talos}:${version}`;
  else if (node.platform === 'rpi4') bootMedia = IMAGE_FACTORY.diskImage(id, version, arch);
  else bootMedia = IMAGE_FACTORY.iso(id, version, arch);
  return { schematic, schematicId: id, installer: stock ? `${IMAGES.installer}:${version}` : IMAGE_FACTORY.installer(id, version), bootMedia };
}

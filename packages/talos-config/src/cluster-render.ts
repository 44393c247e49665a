import { PRIVATE_FILE_MODE, type OutputFile } from '@groundwork/kit';
import { localStorageVolumeName, nodeArch, nodeInstallDisk, talosContract, type LoadedCluster } from '@groundwork/cluster';
import type { PemPair, SecretsBundle } from './bundle/bundle.ts';
import { buildTalosconfig, talosconfigToYaml } from './bundle/talosconfig.ts';
import { documentsToYaml, renderDocuments, type Documents } from './config/render.ts';
import { nodeImages } from './config/platform.ts';
import { factoryUrl, unregistered } from './factory/schematics.ts';
import { PatchError, applyPatch } from './patches/strategic.ts';
import { patchesFor, unknownPatchFolders } from './patches/load.ts';
import { coerceScalarsToStrings, schemaProblems } from './validate/schema.ts';
import { talosRuleProblems } from './validate/rules.ts';

export const LAYER = 'talos-config';

export interface RenderResult {
  files: OutputFile[];
  problems: string[];
  /** Node configs as documents, for checks that run after rendering. */
  nodes: Map<string, Documents>;
}

function checks(docs: Documents, contract: string, node: Parameters<typeof talosRuleProblems>[1]): string[] {
  return [...schemaProblems(docs, contract), ...talosRuleProblems(docs, node)];
}

/**
 * Every node's config: the generated documents, then the user's patches one file at a time. A check that
 * fails only after a patch is reported against that patch file, with the node it broke.
 */
export function renderCluster(root: string, cluster: LoadedCluster, bundle: SecretsBundle, client: PemPair): RenderResult {
  const contract = talosContract(cluster.config);
  const problems: string[] = [...unknownPatchFolders(root, cluster.name, cluster.config.nodes)];
  // One line per mistake, naming every node it breaks, however many nodes a patch applies to.
  const byPatch = new Map<string, { path: string; message: string; verb: string; nodes: string[] }>();
  const report = (path: string, message: string, verb: string, node: string) => {
    const key = `${path}\n${verb}\n${message}`;
    const entry = byPatch.get(key) ?? { path, message, verb, nodes: [] };
    entry.nodes.push(node);
    byPatch.set(key, entry);
  };
  const files: OutputFile[] = [];
  const nodes = new Map<string, Documents>();
  for (const node of cluster.config.nodes) {
    let docs = renderDocuments({ cluster: cluster.config, bundle, node });
    let known = checks(docs, contract, node);
    problems.push(...known.map((p) => `nodes/${node.name}: generated config: ${p}`));
    let patches;
    try {
      patches = patchesFor(root, cluster.name, node);
    } catch (error) {
      if (!problems.includes((error as Error).message)) problems.push((error as Error).message);
      continue;
    }
    for (const patch of patches) {
      try {
        docs = applyPatch(docs, patch.documents);
        coerceScalarsToStrings(docs, contract);
      } catch (error) {
        if (error instanceof PatchError) {
          report(patch.path, error.message, 'cannot apply to', node.name);
          continue;
        }
        throw error;
      }
      const after = checks(docs, contract, node);
      for (const p of after.filter((p) => !known.includes(p))) report(patch.path, p, 'breaks', node.name);
      known = after;
    }
    nodes.set(node.name, docs);
    files.push({ path: `nodes/${node.name}.yaml`, data: documentsToYaml(docs), mode: PRIVATE_FILE_MODE });
  }
  for (const { path, message, verb, nodes: names } of byPatch.values()) problems.push(`${path}: ${verb} node${names.length === 1 ? '' : 's'} ${names.join(', ')}: ${message}`);
  files.push({ path: 'talosconfig', data: talosconfigToYaml(buildTalosconfig(cluster.config, bundle.certs.os.crt, client)), mode: PRIVATE_FILE_MODE });
  files.push({ path: 'boot-media.md', data: bootMedia(cluster) });
  return { files, problems, nodes };
}

/** What to boot or flash on each node for its first install, and the installer it upgrades with. */
export function bootMedia(cluster: LoadedCluster): string {
  const lines = [
    `# Boot media for ${cluster.name} (Talos ${cluster.config.versions.talos})`,
    '',
    '| node | platform | arch | boot from | installer | schematic |',
    '|---|---|---|---|---|---|',
  ];
  for (const node of cluster.config.nodes) {
    const images = nodeImages(cluster.config, node);
    lines.push(`| ${node.name} | ${node.platform} | ${nodeArch(node)} | ${images.bootMedia} | ${images.installer} | ${images.schematicId} |`);
  }
  const pending = unregistered(cluster, factoryUrl({}));
  if (pending.length) {
    lines.push('', `Not registered with the Image Factory yet (its images and installers answer 404 until then): ${pending.map((p) => `${p.id.slice(0, 12)}… for ${p.nodes.join(', ')}`).join('; ')}. \`npx gw-talos schematics --cluster=${cluster.name}\` registers them (talos-config apply does it first too).`);
  }
  const pis = cluster.config.nodes.filter((n) => n.platform === 'rpi4');
  if (pis.length) {
    const image = nodeImages(cluster.config, pis[0]!).bootMedia;
    lines.push('', 'Raspberry Pi 4: update the EEPROM first, then write the image to the SD card (check the device name first):', '', '```sh', `curl -LO ${image}`, `xz -dc metal-arm64.raw.xz | sudo dd of=/dev/mmcblk0 bs=4M conv=fsync status=progress`, '```');
    const fromUsb = pis.filter((n) => nodeInstallDisk(n) !== undefined && !nodeInstallDisk(n)!.startsWith('/dev/mmcblk'));
    if (fromUsb.length) {
      lines.push('', `Booting from a USB SSD (${fromUsb.map((n) => `${n.name}: ${nodeInstallDisk(n)}`).join(', ')}): write the same image to the SSD instead of the card, and set the EEPROM's boot order to try USB first (\`sudo rpi-eeprom-config --edit\` on Raspberry Pi OS: BOOT_ORDER=0xf14). Talos then installs to and runs from the SSD.`);
    }
  }
  const ephemeral = cluster.config.nodes.filter((n) => n.ephemeralDisk);
  if (ephemeral.length) {
    lines.push('', "/var on a second disk (etcd's data, container images and logs; Talos's EPHEMERAL volume): attach the disk before the first boot, blank or GPT; `talosctl -n <ip> get volumestatus EPHEMERAL` shows where it went.", '');
    for (const node of ephemeral) lines.push(`- ${node.name} (${node.ip}): \`${node.ephemeralDisk!.match}\`, at least ${node.ephemeralDisk!.minSize} free`);
  }
  const disks = cluster.config.nodes.filter((n) => n.localStorageDisk);
  if (disks.length) {
    const volume = localStorageVolumeName(cluster.config);
    lines.push('', `Local storage disks: Talos adds a partition in the free space of the disk the selector matches and mounts it at ${cluster.config.features.localStorage.hostPath}. The disk must be blank or GPT: wipe a preformatted one with \`talosctl -n <ip> wipe disk <device>\`; check with \`talosctl -n <ip> get volumestatus u-${volume}\`.`, '');
    for (const node of disks) lines.push(`- ${node.name} (${node.ip}): \`${node.localStorageDisk!.match}\`, at least ${node.localStorageDisk!.minSize} free`);
  }
  return `${lines.join('\n')}\n`;
}

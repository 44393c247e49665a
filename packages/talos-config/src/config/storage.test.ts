import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateClusterText, type Cluster } from '@groundwork/cluster';
import { generateBundle, type SecretsBundle } from '../bundle/bundle.ts';
import { documentsToYaml, renderDocuments } from './render.ts';
import { applyPatch } from '../patches/strategic.ts';
import { bootMedia } from '../cluster-render.ts';
import { schemaProblems } from '../validate/schema.ts';
import { talosRuleProblems } from '../validate/rules.ts';

const repo = join(import.meta.dirname, '..', '..', '..', '..');
type Doc = Record<string, any>;

function example(name: string, edit: (text: string) => string = (t) => t): Cluster {
  const outcome = validateClusterText(edit(readFileSync(join(repo, 'clusters', name, 'cluster.yaml'), 'utf8')), name, name);
  expect(outcome.errors).toEqual([]);
  return outcome.config!;
}

const userVolumes = (docs: Doc[]) => docs.filter((d) => d.kind === 'UserVolumeConfig');

describe('local-path volumes on a node\'s own disk (nodes[].localStorageDisk)', () => {
  let bundle: SecretsBundle;
  let pi: Cluster;
  const render = (cluster: Cluster, name: string) => renderDocuments({ cluster, bundle, node: cluster.nodes.find((n) => n.name === name)! }) as Doc[];
  beforeAll(() => {
    bundle = generateBundle();
    pi = example('pi-fleet');
  });

  it('gives the Pi with the USB SSD a user volume named after hostPath, so Talos mounts it where local-path writes', () => {
    const docs = render(pi, 'pi-w-3');
    expect(docs.at(-1)).toEqual({
      apiVersion: 'v1alpha1',
      kind: 'UserVolumeConfig',
      name: 'local-path-provisioner',
      provisioning: { diskSelector: { match: 'disk.transport == "usb" && !system_disk' }, minSize: '10GiB' },
    });
    expect(pi.features.localStorage.hostPath).toBe(`/var/mnt/${docs.at(-1)!.name}`);
    expect(documentsToYaml(docs)).toContain(
      '---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: local-path-provisioner\nprovisioning:\n    diskSelector:\n        match: disk.transport == "usb" && !system_disk\n    minSize: 10GiB\n',
    );
  });

  it('keeps the kubelet bind of hostPath on that node, which is how the kubelet sees the volume writable', () => {
    const [config] = render(pi, 'pi-w-3');
    expect(config!.machine.kubelet.extraMounts).toEqual([
      { destination: '/var/mnt/local-path-provisioner', type: 'bind', source: '/var/mnt/local-path-provisioner', options: ['bind', 'rshared', 'rw'] },
    ]);
  });

  it('validates against Talos\'s v1.13 schema and the rules a node applies', () => {
    const node = pi.nodes.find((n) => n.name === 'pi-w-3')!;
    const docs = render(pi, 'pi-w-3');
    expect(schemaProblems(docs, 'v1.13')).toEqual([]);
    expect(talosRuleProblems(docs, node)).toEqual([]);
    const volume = docs.length;
    const broken = (change: Doc) => [...docs.slice(0, -1), { ...docs.at(-1), ...change }];
    expect(schemaProblems(broken({ provisioning: { diskSelector: { expression: 'x' } }, filesystem: { type: 'zfs' } }), 'v1.13')).toEqual([
      `document ${volume} (UserVolumeConfig/local-path-provisioner): /provisioning/diskSelector: unknown field "expression"`,
      `document ${volume} (UserVolumeConfig/local-path-provisioner): /filesystem/type: must be one of ext4, xfs`,
    ]);
    expect(talosRuleProblems(broken({ name: 'local_path', provisioning: { diskSelector: { match: '!system_disk' } } }), node)).toEqual([
      'UserVolumeConfig/local_path: name must be 1 to 34 letters, digits or "-"',
      'UserVolumeConfig/local_path: a partition needs provisioning.minSize or maxSize',
    ]);
    expect(talosRuleProblems(broken({ provisioning: { minSize: '1GiB' } }), node)).toEqual([
      'UserVolumeConfig/local-path-provisioner: provisioning.diskSelector.match is required',
    ]);
  });

  it("puts the control plane's /var, and so etcd, on its USB SSD: Talos's EPHEMERAL volume on the disk the selector matches", () => {
    const docs = render(pi, 'pi-cp-1');
    expect(docs.filter((d) => d.kind === 'VolumeConfig')).toEqual([
      { apiVersion: 'v1alpha1', kind: 'VolumeConfig', name: 'EPHEMERAL', provisioning: { diskSelector: { match: 'disk.transport == "usb" && !system_disk' }, minSize: '16GiB' } },
    ]);
    expect(userVolumes(docs)).toEqual([]);
  });

  it('leaves nodes without a local storage disk exactly as before: no extra document', () => {
    for (const node of ['pi-w-1', 'pi-w-2']) {
      const docs = render(pi, node);
      expect(userVolumes(docs), node).toEqual([]);
      expect(docs.map((d) => d.kind ?? 'v1alpha1')).toEqual(['v1alpha1', 'HostnameConfig', 'LinkConfig', 'ResolverConfig', 'TimeSyncConfig', 'KmsgLogConfig']);
    }
    for (const name of ['proxmox-ha', 'metal-ha', 'docker-dev']) {
      const cluster = example(name);
      for (const node of cluster.nodes) expect(userVolumes(render(cluster, node.name)), `${name}/${node.name}`).toEqual([]);
    }
  });

  it('follows a custom hostPath and minimum size, and lets a patch bound the size by kind and name', () => {
    const cluster = example('metal-ha', (text) =>
      text
        .replace('    extensions: [siderolabs/intel-ucode]\n', '    extensions: [siderolabs/intel-ucode]\n    localStorageDisk: { match: \'disk.transport == "sata" && !disk.rotational && !system_disk\', minSize: 200GB }\n')
        .replace('features:\n', 'features:\n  localStorage: { hostPath: /var/mnt/fast-data }\n'),
    );
    const docs = render(cluster, 'worker-1');
    expect(userVolumes(docs)).toEqual([
      { apiVersion: 'v1alpha1', kind: 'UserVolumeConfig', name: 'fast-data', provisioning: { diskSelector: { match: 'disk.transport == "sata" && !disk.rotational && !system_disk' }, minSize: '200GB' } },
    ]);
    expect(docs[0]!.machine.kubelet.extraMounts[0].source).toBe('/var/mnt/fast-data');
    expect(userVolumes(render(cluster, 'worker-2'))).toEqual([]);
    const patched = applyPatch(docs, [{ apiVersion: 'v1alpha1', kind: 'UserVolumeConfig', name: 'fast-data', provisioning: { maxSize: '400GB' } }]);
    expect(userVolumes(patched)[0]!.provisioning).toEqual({ diskSelector: { match: 'disk.transport == "sata" && !disk.rotational && !system_disk' }, minSize: '200GB', maxSize: '400GB' });
    expect(schemaProblems(patched, 'v1.13')).toEqual([]);
  });

  it('tells in boot-media.md which disk each node needs and how to check the volume', () => {
    const text = bootMedia({ name: 'pi-fleet', dir: '', file: '', config: pi, warnings: [] });
    expect(text).toContain('mounts it at /var/mnt/local-path-provisioner. The disk must be blank or GPT');
    expect(text).toContain('`talosctl -n <ip> get volumestatus u-local-path-provisioner`');
    expect(text).toContain('\n- pi-w-3 (192.168.1.24): `disk.transport == "usb" && !system_disk`, at least 10GiB free\n');
    // And the control plane's /var on its USB SSD, in its own list.
    expect(text).toContain('\n- pi-cp-1 (192.168.1.21): `disk.transport == "usb" && !system_disk`, at least 16GiB free\n');
    expect(text.match(/^- /gm)).toHaveLength(2);
    expect(bootMedia({ name: 'metal-ha', dir: '', file: '', config: example('metal-ha'), warnings: [] })).not.toContain('Local storage disks');
  });

  it('refuses to render a volume the cluster file would have refused', () => {
    const cluster = example('pi-fleet');
    const invalid = { ...cluster, features: { ...cluster.features, localStorage: { enabled: true, hostPath: '/var/local-path' } } };
    expect(() => render(invalid, 'pi-w-3')).toThrowError('node pi-w-3: localStorageDisk needs local storage on, a /var/mnt/<name> hostPath and real disks');
  });
});

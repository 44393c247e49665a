import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateClusterText, type LoadedCluster } from '@groundwork/cluster';
import { applyPatch as applyPatchTo } from './strategic.ts';
import { createAdminClient, generateBundle, type SecretsBundle } from '../bundle/bundle.ts';
import { renderCluster } from '../cluster-render.ts';

const repo = join(import.meta.dirname, '..', '..', '..', '..');
const shared = join(repo, '..', 'shared', 'data', 'talos');
type Doc = Record<string, any>;
const applyPatch = (docs: Doc[], patch: Doc[]) => applyPatchTo(docs, patch) as Doc[];

const base = (): Doc[] => [
  {
    version: 'v1alpha1',
    machine: { type: 'worker', certSANs: ['a'], kubelet: { image: 'k:1', extraArgs: { x: '1' } }, install: { disk: '/dev/sda', wipe: true } },
    cluster: { network: { podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] }, apiServer: { auditPolicy: { rules: [{ level: 'Metadata' }] }, admissionControl: [{ name: 'PodSecurity', configuration: { a: 1 } }] } },
  },
  { apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: 'n1' },
  { apiVersion: 'v1alpha1', kind: 'RegistryMirrorConfig', name: 'ghcr.io', endpoints: [{ url: 'https://m1' }] },
];

describe('strategic merge, as Talos applies patches', () => {
  it('merges maps, appends lists, and replaces the replace-lists', () => {
    const [config] = applyPatch(base(), [
      { machine: { certSANs: ['b'], kubelet: { extraArgs: { y: '2' } } }, cluster: { network: { podSubnets: ['10.42.0.0/16'] }, apiServer: { auditPolicy: { rules: [{ level: 'None' }] } } } },
    ]);
    expect(config!.machine.certSANs).toEqual(['a', 'b']);
    expect(config!.machine.kubelet).toEqual({ image: 'k:1', extraArgs: { x: '1', y: '2' } });
    expect(config!.cluster.network).toEqual({ podSubnets: ['10.42.0.0/16'], serviceSubnets: ['10.96.0.0/12'] });
    expect(config!.cluster.apiServer.auditPolicy).toEqual({ rules: [{ level: 'None' }] });
  });

  it('merges admission plugins by name, ignores zero values and always takes booleans', () => {
    const [config] = applyPatch(base(), [{ machine: { install: { disk: '', wipe: false } }, cluster: { apiServer: { admissionControl: [{ name: 'PodSecurity', configuration: { b: 2 } }, { name: 'Other' }] } } }]);
    expect(config!.machine.install).toEqual({ disk: '/dev/sda', wipe: false });
    expect(config!.cluster.apiServer.admissionControl).toEqual([{ name: 'PodSecurity', configuration: { a: 1, b: 2 } }, { name: 'Other' }]);
  });

  it('matches typed documents by kind and name, appends new ones and deletes with $patch', () => {
    const docs = applyPatch(base(), [
      { apiVersion: 'v1alpha1', kind: 'RegistryMirrorConfig', name: 'ghcr.io', endpoints: [{ url: 'https://m2' }] },
      { apiVersion: 'v1alpha1', kind: 'RegistryMirrorConfig', name: 'docker.io', endpoints: [{ url: 'https://m3' }] },
      { apiVersion: 'v1alpha1', kind: 'HostnameConfig', $patch: 'delete' },
      { machine: { kubelet: { extraArgs: { $patch: 'delete' } } } },
    ]);
    expect(docs.map((d) => d.kind ?? 'v1alpha1')).toEqual(['v1alpha1', 'RegistryMirrorConfig', 'RegistryMirrorConfig']);
    expect(docs[1]!.endpoints).toEqual([{ url: 'https://m1' }, { url: 'https://m2' }]);
    expect(docs[2]).toEqual({ apiVersion: 'v1alpha1', kind: 'RegistryMirrorConfig', name: 'docker.io', endpoints: [{ url: 'https://m3' }] });
    expect(docs[0]!.machine.kubelet).toEqual({ image: 'k:1' });
  });

  it('refuses a patch that touches one document twice or deletes the v1alpha1 document', () => {
    expect(() => applyPatch(base(), [{ machine: {} }, { cluster: {} }])).toThrowError('the patch changes v1alpha1 twice; merge those parts into one document');
    expect(() => applyPatch(base(), [{ version: 'v1alpha1', $patch: 'delete' }])).toThrowError('the v1alpha1 document cannot be deleted');
  });

  it('applies Talos\'s own stability patch (kubelet extraMounts) the way Talos does', () => {
    const patch = parse(readFileSync(join(shared, 'stability-patch.yaml'), 'utf8')) as Doc;
    const [config] = applyPatch(base(), [patch]);
    expect(config!.machine.kubelet.extraMounts).toEqual([{ source: '/var/opt', destination: '/var/opt', type: 'bind', options: ['rshared'] }]);
  });
});

describe('user patches in clusters/<name>/talos/patches/', () => {
  let root: string;
  let cluster: LoadedCluster;
  let bundle: SecretsBundle;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'gw-patches-'));
    const text = readFileSync(join(repo, 'clusters', 'proxmox-ha', 'cluster.yaml'), 'utf8');
    const config = validateClusterText(text, 'cluster.yaml', 'proxmox-ha').config!;
    cluster = { name: 'proxmox-ha', dir: join(root, 'clusters', 'proxmox-ha'), file: '', config, warnings: [] };
    bundle = generateBundle();
  });

  function write(path: string, text: string) {
    const full = join(root, 'clusters', 'proxmox-ha', 'talos', 'patches', path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
  }

  it('apply to all nodes, per role and per node, in that order', () => {
    write('10-sysctls.yaml', 'machine:\n  sysctls:\n    vm.max_map_count: "262144"\n');
    write('worker/20-label.yaml', 'machine:\n  nodeLabels:\n    tier: worker\n');
    write('nodes/pve-w-2/30-label.yaml', 'machine:\n  nodeLabels:\n    tier: special\n');
    const result = renderCluster(root, cluster, bundle, createAdminClient(bundle));
    expect(result.problems).toEqual([]);
    const machine = (name: string) => result.nodes.get(name)![0]!.machine as Doc;
    expect(machine('pve-cp-1').sysctls).toEqual({ 'vm.max_map_count': '262144' });
    expect(machine('pve-cp-1').nodeLabels.tier).toBeUndefined();
    expect(machine('pve-w-1').nodeLabels).toEqual({ tier: 'worker' });
    expect(machine('pve-w-2').nodeLabels).toEqual({ tier: 'special' });
  });

  it('reports what a patch breaks against the patch file and the node', () => {
    write('worker/40-typo.yaml', 'machine:\n  kubelet:\n    extraArgz:\n      foo: bar\n');
    write('nodes/pve-w-9/x.yaml', 'machine: {}\n');
    write('50-twice.yaml', 'machine: {}\n---\nmachine: {}\n');
    const result = renderCluster(root, cluster, bundle, createAdminClient(bundle));
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'clusters/proxmox-ha/talos/patches/nodes/pve-w-9/: no node is called pve-w-9',
        'clusters/proxmox-ha/talos/patches/worker/40-typo.yaml: breaks nodes pve-w-1, pve-w-2: document 1 (v1alpha1): /machine/kubelet: unknown field "extraArgz"',
        'clusters/proxmox-ha/talos/patches/50-twice.yaml: cannot apply to nodes pve-cp-1, pve-cp-2, pve-cp-3, pve-w-1, pve-w-2: the patch changes v1alpha1 twice; merge those parts into one document',
      ]),
    );
    // One line per mistake, however many nodes it reaches.
    expect(result.problems.filter((p) => p.includes('40-typo.yaml'))).toHaveLength(1);
  });

  it('refuses a folder the layout does not know, instead of skipping its patches', () => {
    write('workers/60-label.yaml', 'machine:\n  nodeLabels:\n    tier: worker\n');
    const result = renderCluster(root, cluster, bundle, createAdminClient(bundle));
    expect(result.problems).toContain(
      'clusters/proxmox-ha/talos/patches/workers/: not a patch folder (patches go in clusters/proxmox-ha/talos/patches/ itself, controlplane/, worker/ or nodes/<node>/); its files are not applied',
    );
  });

  it('reads an unquoted number where Talos wants a string as its text, as Talos does', () => {
    write('70-sysctl.yaml', 'machine:\n  sysctls:\n    net.core.somaxconn: 65535\n');
    const result = renderCluster(root, cluster, bundle, createAdminClient(bundle));
    expect(result.problems.filter((p) => p.includes('70-sysctl'))).toEqual([]);
    expect((result.nodes.get('pve-w-1')![0]!.machine as Doc).sysctls['net.core.somaxconn']).toBe('65535');
  });
});

import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProblemList } from '@groundwork/kit';
import { loadCluster, loadClusterFile, validateClusterText } from './load.ts';
import { apiEndpoint, nameservers, nodeArch, nodeInstallDisk, nodeLink, talosContract } from './derive.ts';
import { clusterJsonSchema, SCHEMA_FILE } from './json-schema.ts';
import { localStorageVolumeName } from './local-storage.ts';
import { cidrsOverlap, isCanonical, parseCidr, parseIPv4 } from './ipv4.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

function workspaceWith(name: string, text: string): string {
  const root = mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  mkdirSync(join(root, 'clusters', name), { recursive: true });
  writeFileSync(join(root, 'nx.json'), '{}');
  writeFileSync(join(root, 'clusters', name, 'cluster.yaml'), text);
  return root;
}

describe('loading a cluster from its folder', () => {
  it('names the file and the field when the folder and the name disagree', () => {
    const text = readFileSync(join(fixtures, 'valid', 'proxmox-ha.yaml'), 'utf8');
    const root = workspaceWith('lab', text);
    expect(() => loadCluster(root, 'lab')).toThrowError(ProblemList);
    try {
      loadCluster(root, 'lab');
    } catch (error) {
      expect((error as ProblemList).problems).toEqual([
        'clusters/lab/cluster.yaml: name: "fixture" does not match its folder clusters/lab/ (the folder name is the cluster name)',
      ]);
    }
  });

  it('returns the parsed cluster with defaults filled in and warnings prefixed with the file', () => {
    const text = readFileSync(join(fixtures, 'valid', 'two-control-planes.yaml'), 'utf8').replace('name: fixture', 'name: pair');
    const root = workspaceWith('pair', text);
    const loaded = loadCluster(root, 'pair');
    expect(loaded.config.network.podCidr).toBe('10.244.0.0/16');
    expect(loaded.config.features.n8n.enabled).toBe(false);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toMatch(/^clusters\/pair\/cluster\.yaml: nodes: 2 control planes is an even number/);
  });

  it('reports a missing file by its path', () => {
    expect(() => loadClusterFile('/nonexistent/cluster.yaml')).toThrowError('/nonexistent/cluster.yaml: no such cluster file');
  });
});

describe('derived values', () => {
  const load = (file: string) => validateClusterText(readFileSync(join(fixtures, 'valid', file), 'utf8'), file).config!;

  it('uses the VIP, then the only control plane, as the API endpoint', () => {
    expect(apiEndpoint(load('proxmox-ha.yaml'))).toBe('https://10.0.10.10:6443');
    expect(apiEndpoint(load('single-node.yaml'))).toBe('https://10.0.1.5:6443');
  });

  it('fills per-platform defaults for arch, link and install disk', () => {
    const pi = load('pi-fleet.yaml');
    expect(nodeArch(pi.nodes[0]!)).toBe('arm64');
    expect(nodeLink(pi.nodes[0]!)).toBe('end0');
    expect(nodeInstallDisk(pi.nodes[0]!)).toBe('/dev/mmcblk0');
    const metal = load('metal-ha.yaml');
    expect(nodeInstallDisk(metal.nodes[3]!)).toBeUndefined();
    expect(metal.nodes[3]!.installDiskSelector).toEqual({ type: 'nvme' });
    expect(nameservers(load('docker-dev.yaml'))).toEqual(['10.5.0.1']);
    expect(talosContract(pi)).toBe('v1.13');
  });

  it('names the local-path user volume after hostPath, with the disk selector and its default minimum size', () => {
    const pi = load('pi-fleet.yaml');
    expect(localStorageVolumeName(pi)).toBe('local-path-provisioner');
    expect(pi.nodes[3]!.localStorageDisk).toEqual({ match: 'disk.transport == "usb" && !system_disk', minSize: '10GiB' });
    expect(pi.nodes[0]!.localStorageDisk).toBeUndefined();
    const nas = load('local-storage-disk.yaml');
    expect(localStorageVolumeName(nas)).toBe('fast-data');
    expect(nas.nodes[0]!.localStorageDisk!.minSize).toBe('400GB');
  });
});

describe('the exported JSON Schema', () => {
  it('is committed and up to date with the zod schema', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(clusterJsonSchema());
  });

  it('marks fields with defaults as optional and keeps the node list required', () => {
    const schema = JSON.parse(clusterJsonSchema());
    expect(schema.required).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'name', 'nodes', 'network', 'sops']));
    expect(schema.required).not.toContain('features');
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('IPv4 helpers', () => {
  it('parses, detects host bits and overlaps', () => {
    expect(parseIPv4('10.0.1.300')).toBeUndefined();
    expect(parseIPv4('192.168.1.1')).toBe(3232235777);
    expect(isCanonical(parseCidr('10.0.1.0/24')!)).toBe(true);
    expect(isCanonical(parseCidr('10.0.1.1/24')!)).toBe(false);
    expect(cidrsOverlap(parseCidr('10.96.0.0/12')!, parseCidr('10.100.0.0/16')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.244.0.0/16')!, parseCidr('10.96.0.0/12')!)).toBe(false);
  });
});

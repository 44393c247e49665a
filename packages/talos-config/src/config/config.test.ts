import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { TALOS_LOG_PORT, validateClusterText, type Cluster } from '@groundwork/cluster';
import { generateBundle, type SecretsBundle } from '../bundle/bundle.ts';
import { documentsToYaml, renderDocuments } from './render.ts';
import { schematicFor, schematicId } from './platform.ts';
import { schemaProblems } from '../validate/schema.ts';
import { talosRuleProblems } from '../validate/rules.ts';

const repo = join(import.meta.dirname, '..', '..', '..', '..');
const shared = join(repo, '..', 'shared', 'data', 'talos');
type Doc = Record<string, any>;

function example(name: string): Cluster {
  return validateClusterText(readFileSync(join(repo, 'clusters', name, 'cluster.yaml'), 'utf8'), name, name).config!;
}

function render(cluster: Cluster, nodeName: string, bundle: SecretsBundle): Doc[] {
  const node = cluster.nodes.find((n) => n.name === nodeName)!;
  return renderDocuments({ cluster, bundle, node });
}

const golden = (file: string) => (parseAllDocuments(readFileSync(join(shared, file), 'utf8')) as unknown as Array<{ toJS(): Doc }>).map((d) => d.toJS());

describe('machine configs for the Talos v1.13 contract', () => {
  let bundle: SecretsBundle;
  beforeAll(() => {
    bundle = generateBundle();
  });

  it('every node of every example validates against the Talos schema and rules', () => {
    for (const name of ['pi-fleet', 'proxmox-ha', 'metal-ha', 'docker-dev']) {
      const cluster = example(name);
      for (const node of cluster.nodes) {
        const docs = renderDocuments({ cluster, bundle, node });
        expect([...schemaProblems(docs, 'v1.13'), ...talosRuleProblems(docs, node)], `${name}/${node.name}`).toEqual([]);
      }
    }
  });

  it('gives control planes the sections Talos\'s own generator gives them, in the same order', () => {
    const [ours] = render(example('proxmox-ha'), 'pve-cp-1', bundle);
    const [talos] = golden('v1.13-base-controlplane.yaml');
    const order = (keys: string[], reference: string[]) => keys.filter((k) => reference.includes(k));
    expect(order(Object.keys(ours!.cluster), Object.keys(talos!.cluster))).toEqual(Object.keys(talos!.cluster));
    expect(order(Object.keys(ours!.machine), Object.keys(talos!.machine))).toEqual(Object.keys(talos!.machine));
    expect(ours!.machine.ca.key).not.toBe('');
    expect(ours!.machine.nodeLabels).toEqual({ 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
  });

  it('gives workers the CA certificates without keys and none of the control-plane sections, like Talos', () => {
    const [ours] = render(example('proxmox-ha'), 'pve-w-1', bundle);
    const [talos] = golden('v1.13-base-worker.yaml');
    expect(Object.keys(ours!.cluster)).toEqual(Object.keys(talos!.cluster));
    expect([ours!.machine.ca.key, ours!.cluster.ca.key]).toEqual(['', '']);
    expect(ours!.machine.ca.crt).toBe(Buffer.from(bundle.certs.os.crt).toString('base64'));
    expect(ours!.machine.nodeLabels).toBeUndefined();
  });

  it('turns the cluster file\'s features into what later layers need', () => {
    const [metal] = render(example('metal-ha'), 'cp-1', bundle);
    expect(metal!.cluster.network.cni).toEqual({ name: 'none' });
    expect(metal!.cluster.proxy).toEqual({ disabled: true });
    expect(metal!.machine.features.kubernetesTalosAPIAccess).toEqual({ enabled: true, allowedRoles: ['os:etcd:backup'], allowedKubernetesNamespaces: ['dr'] });
    expect(metal!.cluster.etcd.extraArgs).toEqual({ 'listen-metrics-urls': 'http://0.0.0.0:2381' });
    expect(metal!.cluster.controllerManager.extraArgs).toEqual({ 'bind-address': '0.0.0.0' });
    expect(metal!.machine.kubelet.extraArgs).toEqual({ 'rotate-server-certificates': 'true' });
    expect(metal!.machine.kubelet.extraMounts[0]).toEqual({ destination: '/var/mnt/local-path-provisioner', type: 'bind', source: '/var/mnt/local-path-provisioner', options: ['bind', 'rshared', 'rw'] });
    expect(metal!.cluster.apiServer.certSANs).toEqual(['10.20.0.10', '10.20.0.11', '10.20.0.12', '10.20.0.13']);
    expect(metal!.cluster.apiServer.admissionControl[0].configuration.defaults.enforce).toBe('baseline');
    expect(metal!.cluster.secretboxEncryptionSecret).toBe(bundle.secrets.secretboxencryptionsecret);
    const [worker] = render(example('metal-ha'), 'worker-4', bundle);
    expect(worker!.machine.features.kubernetesTalosAPIAccess).toBeUndefined();
    expect(worker!.machine.nodeTaints).toEqual({ 'groundwork.dev/pool': 'batch:NoSchedule' });
    expect(worker!.machine.nodeLabels).toEqual({ 'groundwork.dev/pool': 'batch' });
    expect(worker!.machine.install.diskSelector).toEqual({ type: 'nvme' });
    const [docker] = render(example('docker-dev'), 'dev-cp-1', bundle);
    expect(docker!.cluster.network.cni).toBeUndefined();
    expect(docker!.cluster.proxy).toEqual({ image: 'registry.k8s.io/kube-proxy:v1.36.3' });
    expect(docker!.machine.install.disk).toBeUndefined();
    const [pi] = render(example('pi-fleet'), 'pi-cp-1', bundle);
    expect(pi!.cluster.allowSchedulingOnControlPlanes).toBe(true);
    expect(pi!.machine.features.hostDNS).toEqual({ enabled: true, forwardKubeDNSToHost: true });
    expect(pi!.machine.features.kubePrism).toEqual({ enabled: true, port: 7445 });
  });

  it("sends Talos's service and kernel logs to the node's log shipper when observability is on, and nowhere when it is off", () => {
    const docs = render(example('pi-fleet'), 'pi-w-1', bundle);
    const endpoint = `tcp://127.0.0.1:${TALOS_LOG_PORT}/`;
    expect(docs[0]!.machine.logging).toEqual({ destinations: [{ endpoint, format: 'json_lines' }] });
    expect(docs.filter((d) => d.kind === 'KmsgLogConfig')).toEqual([{ apiVersion: 'v1alpha1', kind: 'KmsgLogConfig', name: 'observability', url: endpoint }]);
    expect(schemaProblems(docs, 'v1.13')).toEqual([]);
    const off = render(example('docker-dev'), 'dev-w-1', bundle);
    expect(off[0]!.machine.logging).toBeUndefined();
    expect(off.filter((d) => d.kind === 'KmsgLogConfig')).toEqual([]);
  });

  it('writes the network as typed documents, with the VIP on control planes only', () => {
    const kinds = (docs: Doc[]) => docs.slice(1).map((d) => `${d.kind}${d.name ? `/${d.name}` : ''}`);
    expect(kinds(render(example('metal-ha'), 'cp-1', bundle))).toEqual([
      'HostnameConfig', 'LinkConfig/enp1s0', 'VLANConfig/enp1s0.20', 'ResolverConfig', 'TimeSyncConfig', 'Layer2VIPConfig/10.20.0.10', 'KmsgLogConfig/observability',
    ]);
    expect(kinds(render(example('metal-ha'), 'worker-1', bundle))).not.toContain('Layer2VIPConfig/10.20.0.10');
    const [, hostname, link] = render(example('proxmox-ha'), 'pve-w-1', bundle);
    expect(hostname).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: 'pve-w-1' });
    expect(link).toEqual({ apiVersion: 'v1alpha1', kind: 'LinkConfig', name: 'ens18', up: true, addresses: [{ address: '10.0.10.21/24' }], routes: [{ gateway: '10.0.10.1' }] });
    expect(kinds(render(example('docker-dev'), 'dev-w-1', bundle))).toEqual(['HostnameConfig']);
  });

  it('is byte-identical for the same inputs', () => {
    const cluster = example('pi-fleet');
    expect(documentsToYaml(render(cluster, 'pi-w-1', bundle))).toBe(documentsToYaml(render(cluster, 'pi-w-1', bundle)));
  });
});

describe('Image Factory schematics, computed offline', () => {
  it('match the IDs the Image Factory publishes', () => {
    const node = (platform: string, extensions: string[] = []) => ({ platform, extensions }) as never;
    expect(schematicId(schematicFor(node('metal')))).toBe('376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba');
    expect(schematicId(schematicFor(node('rpi4')))).toBe('ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9');
    expect(schematicId(schematicFor(node('proxmox')))).toBe('ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515');
  });

  it('put the installer and the boot media in each node\'s config', () => {
    const bundle = generateBundle();
    const [pi] = render(example('pi-fleet'), 'pi-w-1', bundle);
    expect(pi!.machine.install).toEqual({
      disk: '/dev/mmcblk0',
      image: 'factory.talos.dev/installer/ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9:v1.13.9',
      wipe: false,
      grubUseUKICmdline: true,
    });
    const [metal] = render(example('metal-ha'), 'worker-2', bundle);
    expect(metal!.machine.install.image).toBe('ghcr.io/siderolabs/installer:v1.13.9');
    const [ucode] = render(example('metal-ha'), 'worker-1', bundle);
    expect(ucode!.machine.install.image).toMatch(/^factory\.talos\.dev\/installer\/[0-9a-f]{64}:v1\.13\.9$/);
  });
});

describe('the rules a Talos node enforces beyond the schema', () => {
  it('finds CA keys on workers, a bad endpoint, an unknown CNI and duplicated documents', () => {
    const bundle = generateBundle();
    const cluster = example('proxmox-ha');
    const worker = cluster.nodes.find((n) => n.name === 'pve-w-1')!;
    const docs = render(cluster, 'pve-w-1', bundle);
    const config = parse(JSON.stringify(docs[0])) as Doc;
    config.machine.ca.key = Buffer.from(bundle.certs.os.key).toString('base64');
    config.cluster.controlPlane.endpoint = 'http://10.0.10.10';
    config.cluster.network.cni = { name: 'calico' };
    config.cluster.etcd = { ca: { crt: 'x' } };
    expect(talosRuleProblems([config, ...docs.slice(1), docs[1]!], worker)).toEqual([
      'duplicate document HostnameConfig is not allowed',
      'cluster.controlPlane.endpoint: http://10.0.10.10 must be https:// with a port',
      'machine.ca.key: a worker must not carry the Talos CA key',
      'cluster.etcd: control planes only',
      'cluster.network.cni.name: calico must be flannel, custom or none',
    ]);
    expect(schemaProblems([{ ...docs[0], machine: { ...docs[0]!.machine, kubelt: {} } }], 'v1.13')).toEqual(['document 1 (v1alpha1): /machine: unknown field "kubelt"']);
  });
});

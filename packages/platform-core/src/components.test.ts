import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleCluster, exampleVariant, unclaimedNamespaces } from '@groundwork/testkit';
import type { LoadedCluster } from '@groundwork/cluster';
import { checkPolicies, checkSchemas, formatFinding, renderComponents, type KubeObject } from '@groundwork/kube';
import { components } from './platform.ts';
import { IMAGES } from './versions.ts';
import secrets from './secrets.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
const EXAMPLES = ['pi-fleet', 'proxmox-ha', 'metal-ha', 'docker-dev'];

function render(cluster: LoadedCluster): KubeObject[] {
  return renderComponents('platform-core', cluster, components(cluster)).flatMap((c) => c.objects);
}
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;


describe('platform-core for the example clusters', () => {
  for (const name of EXAMPLES) {
    it(`${name}: every object passes the schema and policy checks`, async () => {
      const objects = render(exampleCluster(name));
      expect((await checkSchemas(objects)).problems).toEqual([]);
      expect(checkPolicies(objects).map(formatFinding)).toEqual([]);
      expect(objects.every((o) => o.metadata.labels?.['groundwork.dev/cluster'] === name && o.metadata.labels?.['groundwork.dev/layer'] === 'platform-core')).toBe(true);
    });
  }
});

describe('the Go programs platform-core deploys', () => {
  it('each sets GOMEMLIMIT from its own memory limit, so its collector works before the OOM killer does', () => {
    const pi = render(exampleCluster('pi-fleet'));
    const containers = pi.filter((o) => ['Deployment', 'DaemonSet'].includes(o.kind)).flatMap((o) => (o.spec as any).template.spec.containers as Array<{ name: string; env?: Array<{ name: string; valueFrom?: unknown }> }>);
    expect(containers.map((c) => c.name).sort()).toEqual(['cert-approver', 'cilium-agent', 'cilium-operator', 'local-path-provisioner', 'metrics-server', 'traefik']);
    for (const c of containers) expect(c.env?.find((e) => e.name === 'GOMEMLIMIT'), c.name).toEqual({ name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } });
  });
});

describe('Cilium', () => {
  const pi = render(exampleCluster('pi-fleet'));

  it('uses the settings Talos requires: KubePrism, cgroup v2 from the host, no SYS_MODULE, Kubernetes IPAM', () => {
    const config = find(pi, 'ConfigMap', 'cilium-config').data;
    expect(config).toMatchObject({ ipam: 'kubernetes', 'kube-proxy-replacement': 'true', 'cgroup-root': '/sys/fs/cgroup', 'enable-hubble': 'false', 'cluster-name': 'pi-fleet', 'ipv4-native-routing-cidr': '10.244.0.0/16' });
    const agent = find(pi, 'DaemonSet', 'cilium').spec.template.spec;
    const main = agent.containers[0];
    expect(main.env).toEqual(expect.arrayContaining([{ name: 'KUBERNETES_SERVICE_HOST', value: 'localhost' }, { name: 'KUBERNETES_SERVICE_PORT', value: '7445' }]));
    expect(main.securityContext.capabilities.add).toEqual(['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID']);
    expect(JSON.stringify(agent)).not.toContain('SYS_MODULE');
    expect(agent.initContainers.map((c: { name: string }) => c.name)).not.toContain('mount-cgroup');
    expect(agent.hostNetwork).toBe(true);
    expect(agent.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('is applied first (wave 0), announces the pool from the cluster file, and runs two operators on multi-node clusters', () => {
    const cluster = exampleCluster('pi-fleet');
    expect(renderComponents('platform-core', cluster, components(cluster)).map((c) => [c.name, c.wave])).toEqual([['cilium', 0], ['metrics-server', 1], ['local-path', 1], ['traefik', 1]]);
    expect(find(pi, 'CiliumLoadBalancerIPPool', 'default').spec).toEqual({ blocks: [{ start: '192.168.1.40', stop: '192.168.1.49' }] });
    expect(find(pi, 'CiliumL2AnnouncementPolicy', 'default').spec).toEqual({ loadBalancerIPs: true, externalIPs: false });
    const operator = find(pi, 'Deployment', 'cilium-operator').spec;
    expect(operator.replicas).toBe(2);
    // Host-network pods: two on one node would collide on their ports.
    expect(operator.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    const single = exampleVariant('pi-fleet', (t) => t.replace(/  - \{ name: pi-w-1[^\n]*\n  - \{ name: pi-w-2[^\n]*\n  - name: pi-w-3\n(    [^\n]*\n)+?      groundwork.dev\/storage: usb-ssd\n/, ''));
    expect(single.config.nodes).toHaveLength(1);
    expect(find(render(single), 'Deployment', 'cilium-operator').spec.replicas).toBe(1);
  });

  it('is left out when the cluster file turns it off (Talos in Docker keeps flannel)', () => {
    const docker = render(exampleCluster('docker-dev'));
    expect(docker.filter((o) => o.metadata.labels?.['groundwork.dev/component'] === 'cilium')).toEqual([]);
  });
});

describe('metrics-server and the kubelet certificate approver', () => {
  it('verifies kubelet certificates instead of skipping TLS', () => {
    const objects = render(exampleCluster('pi-fleet'));
    const args = find(objects, 'Deployment', 'metrics-server').spec.template.spec.containers[0].args as string[];
    expect(args.some((a) => a.includes('insecure'))).toBe(false);
    expect(find(objects, 'Deployment', 'kubelet-serving-cert-approver').spec.template.spec.containers[0].image).toBe(IMAGES.kubeletServingCertApprover);
    expect(find(objects, 'APIService', 'v1beta1.metrics.k8s.io').spec.service).toEqual({ name: 'metrics-server', namespace: 'metrics-server' });
  });
});

describe('local-path', () => {
  it('provisions under the host path talos-config mounts, as the default StorageClass', () => {
    const objects = render(exampleCluster('pi-fleet'));
    expect(JSON.parse(find(objects, 'ConfigMap', 'local-path-config').data['config.json'])).toEqual({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/var/mnt/local-path-provisioner'] }] });
    expect(find(objects, 'StorageClass', 'local-path').metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
    expect(find(objects, 'Namespace', 'local-path-storage').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });
});

describe('Traefik', () => {
  it('gets the ingress address from the pool, two replicas with two or more workers, and a default IngressClass', () => {
    const pi = render(exampleCluster('pi-fleet'));
    const service = find(pi, 'Service', 'traefik');
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.metadata.annotations).toEqual({ 'lbipam.cilium.io/ips': '192.168.1.40' });
    expect(find(pi, 'Deployment', 'traefik').spec.replicas).toBe(2);
    expect(find(pi, 'PodDisruptionBudget', 'traefik')).toBeDefined();
    expect(find(pi, 'IngressClass', 'traefik').metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
    const args = find(pi, 'Deployment', 'traefik').spec.template.spec.containers[0].args as string[];
    expect(args).toEqual(expect.arrayContaining(['--providers.kubernetesingress=true', '--entryPoints.web.http.redirections.entryPoint.scheme=https']));
    expect(args.some((a) => a.includes('kubernetescrd'))).toBe(false);
  });

  it('runs one replica with fewer than two workers and falls back to node ports without a LoadBalancer pool', () => {
    const docker = exampleVariant('docker-dev', (t) => t.replace(/  - \{ name: dev-w-2[^\n]*\n/, ''));
    const objects = render(docker);
    expect(find(objects, 'Deployment', 'traefik').spec.replicas).toBe(1);
    expect(find(objects, 'PodDisruptionBudget', 'traefik')).toBeUndefined();
    expect(find(objects, 'Service', 'traefik').spec).toMatchObject({ type: 'NodePort', ports: [{ name: 'http', nodePort: 30080 }, { name: 'https', nodePort: 30443 }] });
  });
});

describe('cloudflared', () => {
  it('is rendered only when the tunnel is on, with two replicas reading the token from the declared Secret', () => {
    expect(find(render(exampleCluster('pi-fleet')), 'Deployment', 'cloudflared')).toBeUndefined();
    const tunnel = exampleVariant('pi-fleet', (t) => t.replace('features:\n', 'features:\n  cloudflareTunnel: { enabled: true }\n'));
    const deployment = find(render(tunnel), 'Deployment', 'cloudflared');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0].env).toEqual([
      { name: 'TUNNEL_TOKEN', valueFrom: { secretKeyRef: { name: 'cloudflared-tunnel', key: 'token' } } },
      { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
    ]);
    const declared = secrets.secrets.find((s) => s.name === 'cloudflared-tunnel')!;
    expect([declared.namespace, Object.keys(declared.keys)]).toEqual(['cloudflared', ['token']]);
    expect(declared.when!(tunnel.config)).toBe(true);
    expect(declared.when!(exampleCluster('pi-fleet').config)).toBe(false);
  });
});

describe('versions', () => {
  it('pins every image in versions.ts in a form Renovate\'s regex manager finds and bumps', () => {
    const renovate = JSON.parse(readFileSync(join(repo, 'renovate.json'), 'utf8')) as { customManagers: Array<{ managerFilePatterns: string[]; matchStrings: string[] }> };
    const manager = renovate.customManagers[0]!;
    expect(new RegExp(manager.managerFilePatterns[0]!.slice(1, -1)).test('packages/platform-core/src/versions.ts')).toBe(true);
    const text = readFileSync(join(import.meta.dirname, 'versions.ts'), 'utf8');
    const found = [...text.matchAll(new RegExp(manager.matchStrings[0]!, 'g'))].map((m) => `${m.groups!.depName}:${m.groups!.currentValue}`);
    expect(found.sort()).toEqual(Object.values(IMAGES).sort());
  });
});

describe('namespaces the platform-core layer claims', () => {
  it('are all listed in the cluster file\'s CLAIMED_NAMESPACES, so no feature can be pointed at one of them', () => {
    expect(unclaimedNamespaces((cluster) => renderComponents('platform-core', cluster, components(cluster)).flatMap((c) => c.objects))).toEqual({});
  });
});

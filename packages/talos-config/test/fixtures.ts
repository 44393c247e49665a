/** A small metal cluster for the API and layer tests: one control plane and `workers` workers on 10.9.0.0/24. */
export function labClusterYaml(options: { workers?: number; recipients?: string[] } = {}): string {
  const workers = Array.from({ length: options.workers ?? 1 }, (_, i) => `  - { name: w-${i + 1}, ip: 10.9.0.${21 + i}, role: worker, platform: metal, installDisk: /dev/sda, link: eth0 }`);
  return [
    '# a lab on metal',
    'apiVersion: groundwork.dev/v1alpha1',
    'kind: Cluster',
    'name: lab',
    'domain: lab.home.arpa',
    'versions: { talos: v1.13.9, kubernetes: 1.36.3 }',
    'network: { nodeCidr: 10.9.0.0/24, gateway: 10.9.0.1 }',
    'nodes:',
    '  - { name: cp-1, ip: 10.9.0.11, role: controlplane, platform: metal, installDisk: /dev/sda, link: eth0 }',
    ...workers,
    'sops:',
    `  age: [${(options.recipients ?? []).join(', ')}]`,
    '',
  ].join('\n');
}

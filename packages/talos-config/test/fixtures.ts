/**
 * A small metal cluster for the API and layer tests on 10.9.0.0/24: `controlPlanes` control planes (cp-1 at .11,
 * behind the VIP 10.9.0.10 when there are several) and `workers` workers (w-1 at .21).
 */
export function labClusterYaml(options: { workers?: number; controlPlanes?: number; recipients?: string[]; talos?: string; kubernetes?: string } = {}): string {
  const planes = options.controlPlanes ?? 1;
  const node = (name: string, ip: string, role: string) => `  - { name: ${name}, ip: ${ip}, role: ${role}, platform: metal, installDisk: /dev/sda, link: eth0 }`;
  return [
    '# a lab on metal',
    'apiVersion: groundwork.dev/v1alpha1',
    'kind: Cluster',
    'name: lab',
    'domain: lab.home.arpa',
    `versions: { talos: ${options.talos ?? 'v1.13.9'}, kubernetes: ${options.kubernetes ?? '1.36.3'} }`,
    `network: { nodeCidr: 10.9.0.0/24, gateway: 10.9.0.1${planes > 1 ? ', vip: { address: 10.9.0.10 }' : ''} }`,
    'nodes:',
    ...Array.from({ length: planes }, (_, i) => node(`cp-${i + 1}`, `10.9.0.${11 + i}`, 'controlplane')),
    ...Array.from({ length: options.workers ?? 1 }, (_, i) => node(`w-${i + 1}`, `10.9.0.${21 + i}`, 'worker')),
    'sops:',
    `  age: [${(options.recipients ?? []).join(', ')}]`,
    '',
  ].join('\n');
}

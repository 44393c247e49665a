/** Scratch-workspace material specific to the secrets tests; the workspace itself comes from @groundwork/testkit. */
export { scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';

/** A cluster file for scratch workspaces, shaped like the docker-dev example. */
export function clusterYaml(name: string, recipients: string[] = [], extra = ''): string {
  return [
    '# scratch cluster for tests',
    'apiVersion: groundwork.dev/v1alpha1',
    'kind: Cluster',
    `name: ${name}`,
    'domain: test.home.arpa',
    'versions: { talos: v1.13.9, kubernetes: 1.36.3 }',
    'network: { nodeCidr: 10.5.0.0/24, gateway: 10.5.0.1 }',
    'nodes:',
    '  - { name: cp-1, ip: 10.5.0.2, role: controlplane, platform: docker }',
    'features:',
    '  n8n: { enabled: true }',
    'sops:',
    '  # who can read this cluster\'s secrets',
    recipients.length ? `  age:\n${recipients.map((r) => `    - ${r}`).join('\n')}` : '  age: []',
    extra,
  ].join('\n');
}

/** A layer that declares secrets, written as a plain object so the scratch folder needs no imports. */
export const DEMO_DECLARATIONS = `export default {
  layer: 'demo',
  secrets: [
    { namespace: 'demo', name: 'db', description: 'database credentials',
      keys: { password: { generate: 'password', length: 24 }, apiToken: { provided: 'API token from the vendor console' } },
      when: (cluster) => cluster.features.n8n.enabled },
    { namespace: 'demo', name: 'session', description: 'session signing key', keys: { key: { generate: 'hex', bytes: 32 } } },
    { namespace: 'demo', name: 'unused', description: 'only for clusters with DR', keys: { k: { generate: 'hex', bytes: 8 } },
      when: (cluster) => cluster.features.dr.enabled },
  ],
};
`;


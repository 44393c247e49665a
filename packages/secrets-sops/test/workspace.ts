import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from '@groundwork/kit';
import { scratchDir } from './shared.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

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

export interface ScratchWorkspace {
  root: string;
  git: (...args: string[]) => string;
  write: (path: string, text: string) => void;
  read: (path: string) => string;
}

/** A throwaway groundwork workspace (nx.json, clusters/, packages/) that resolves @groundwork/* from this repo. */
export function scratchWorkspace(clusters: Record<string, string>, layers: Record<string, string> = {}): ScratchWorkspace {
  const root = scratchDir('gw-ws-');
  writeFileSync(join(root, 'nx.json'), '{}\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, '.gitignore'), 'node_modules\nclusters/*/rendered/\nclusters/*/age.key\n');
  for (const [name, text] of Object.entries(clusters)) {
    mkdirSync(join(root, 'clusters', name), { recursive: true });
    writeFileSync(join(root, 'clusters', name, 'cluster.yaml'), text);
  }
  for (const [name, text] of Object.entries(layers)) {
    mkdirSync(join(root, 'packages', name, 'src'), { recursive: true });
    writeFileSync(join(root, 'packages', name, 'src', 'secrets.ts'), text);
  }
  const git = (...args: string[]) => {
    const result = execFile('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: root });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.toString()}`);
    return result.stdout.toString();
  };
  git('init', '-q', '-b', 'main');
  return {
    root,
    git,
    write: (path, text) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    },
    read: (path) => readFileSync(join(root, path), 'utf8'),
  };
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleCluster, scratchDir } from '@groundwork/testkit';
import { container, deployment, toPlain } from '../index.ts';
import type { KubeLayer, SecretSource } from './definition.ts';
import { generateKubeLayer } from './run.ts';
import { writeClusterFootprint } from './summary.ts';

const noSecrets: SecretSource = {
  declared: async () => ({ secrets: [], problems: [] }),
  decrypt: async () => {
    throw new Error('no secrets here');
  },
  canDecrypt: async () => false,
};

const layer = (name: string, cpu: string, memory: string): KubeLayer => ({
  name,
  components: () => [
    {
      name: 'app',
      description: `${name}'s one app`,
      objects: [toPlain(deployment({ name: `${name}-app`, namespace: name }, { replicas: 2, pod: { containers: [container({ name: 'app', image: 'x:1', resources: { cpu, memory, memoryLimit: memory } })] } }))],
    },
  ],
});

describe('the cluster-wide footprint file', () => {
  it('adds up what every rendered layer asks of the nodes, naming the layers, rewritten whole each time', async () => {
    const root = scratchDir('gw-summary-');
    const cluster = { ...exampleCluster('pi-fleet'), name: 'demo' };
    expect(writeClusterFootprint(root, cluster).problems).toEqual(['clusters/demo/rendered/ has no rendered layers (run: npx nx run-many -t generate --cluster=demo)']);
    expect((await generateKubeLayer(root, cluster, layer('alpha', '100m', '128Mi'), noSecrets)).problems).toEqual([]);
    expect((await generateKubeLayer(root, cluster, layer('beta', '250m', '256Mi'), noSecrets)).problems).toEqual([]);
    const outcome = writeClusterFootprint(root, cluster);
    expect(outcome.problems).toEqual([]);
    expect(outcome.notes![0]).toBe('cluster-wide footprint of alpha, beta: requests 700m CPU, 768Mi memory; limits none CPU, 768Mi memory');
    const file = join(root, 'clusters', 'demo', 'rendered', 'footprint.md');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('demo, all 2 Kubernetes layers (alpha, beta)');
    expect(text).toContain('| **total** | **700m** | **none** | **768Mi** | **768Mi** |');
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });
});

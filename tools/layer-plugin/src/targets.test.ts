import { describe, expect, it } from 'vitest';
import { layerTargets } from './targets.ts';

describe('layer targets', () => {
  it('adds a layer\'s own commands: never cached, after the layer\'s verify, with --cluster passed on', () => {
    const targets = layerTargets('packages/dr', { commands: { drill: 'Restore the newest backup into a scratch database.' } });
    expect(Object.keys(targets)).toEqual(['generate', 'verify', 'drill', 'apply']);
    expect(targets.drill).toMatchObject({
      executor: 'nx:run-commands',
      cache: false,
      dependsOn: [{ target: 'verify', params: 'forward' }],
      options: { command: "node packages/dr/src/drill.ts '--cluster={args.cluster}'", env: { NODE_COMPILE_CACHE: '{workspaceRoot}/node_modules/.cache/node-compile' }, cluster: '*' },
    });
    expect(targets.drill!.metadata?.description).toBe('Restore the newest backup into a scratch database. (--cluster=<name>)');
    expect(Object.keys(layerTargets('packages/n8n'))).toEqual(['generate', 'verify', 'apply']);
  });
});

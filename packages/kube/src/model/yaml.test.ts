import { describe, expect, it } from 'vitest';
import { parseYamlStream, toYamlStream } from './yaml.ts';
import { compareObjects } from './order.ts';
import type { KubeObject } from './object.ts';

describe('rendered YAML', () => {
  const cm: KubeObject = { data: { on: 'on', mode: '0777', yes: 'yes', script: '#!/bin/sh\nset -eu\n' }, metadata: { labels: { z: '1', a: '2' }, namespace: 'apps', name: 'c' }, kind: 'ConfigMap', apiVersion: 'v1' };

  it('puts identity first and sorts the rest, whatever order the object was built in', () => {
    const text = toYamlStream([cm]);
    expect(text.split('\n').slice(0, 8)).toEqual(['---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: c', '  namespace: apps', '  labels:', '    a: "2"']);
    const shuffled = { ...cm, data: { script: (cm.data as Record<string, string>).script, yes: 'yes', mode: '0777', on: 'on' } };
    expect(toYamlStream([shuffled as KubeObject])).toBe(text);
  });

  it('quotes strings that YAML 1.1 (Kubernetes\'s parser) would read as booleans or octal numbers', () => {
    const text = toYamlStream([cm, { ...cm, metadata: { name: 'n' } }]);
    expect(text).toContain('name: "n"');
    expect(text).toContain('"on": "on"');
    expect(text).toContain('mode: "0777"');
    expect(text).toContain('"yes": "yes"');
    expect(text).toContain('script: |\n    #!/bin/sh\n    set -eu\n');
    expect(parseYamlStream(text, 'f.yaml')).toEqual([cm, { ...cm, metadata: { name: 'n' } }]);
  });

  it('writes a header as comments and reads a stream back, naming the file on errors', () => {
    const text = toYamlStream([cm, { ...cm, metadata: { name: 'd' } }], 'layer/component\ndo not edit');
    expect(text.startsWith('# layer/component\n# do not edit\n---\n')).toBe(true);
    expect(parseYamlStream(text, 'f.yaml').map((o) => o.metadata.name)).toEqual(['c', 'd']);
    expect(() => parseYamlStream('---\nfoo: [\n', 'rendered/x.yaml')).toThrow(/^rendered\/x\.yaml: /);
    expect(() => parseYamlStream('---\njust: text\n', 'rendered/x.yaml')).toThrow('rendered/x.yaml: a document is not a Kubernetes object');
  });

  it('orders objects the way they are applied', () => {
    const o = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
    const sorted = [o('apps/v1', 'Deployment', 'b', 'n'), o('cilium.io/v2', 'CiliumLoadBalancerIPPool', 'p'), o('v1', 'Service', 's', 'n'), o('v1', 'ConfigMap', 'c', 'n'), o('rbac.authorization.k8s.io/v1', 'ClusterRole', 'r'), o('v1', 'Namespace', 'n'), o('apps/v1', 'Deployment', 'a', 'n')].sort(compareObjects);
    expect(sorted.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual(['Namespace/n', 'ClusterRole/r', 'ConfigMap/c', 'Service/s', 'Deployment/a', 'Deployment/b', 'CiliumLoadBalancerIPPool/p']);
  });

  it('refuses a string YAML cannot carry raw, naming the object and the field, instead of writing a file kubectl cannot read', async () => {
    const { toYamlStream } = await import('./yaml.ts');
    const runner = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dr-runner', namespace: 'dr' }, data: { 'runner.mjs': 'ok\nnew line\ttab', 'bad.js': 'a\u007fb' } };
    expect(() => toYamlStream([runner])).toThrow('ConfigMap dr/dr-runner: data.bad.js holds U+007F at offset 1, which YAML cannot carry; escape it at the source');
    expect(toYamlStream([{ ...runner, data: { 'runner.mjs': 'ok\nnew line\ttab' } }])).toContain('runner.mjs: |-');
  });
});

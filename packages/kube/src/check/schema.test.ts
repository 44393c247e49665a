import { describe, expect, it } from 'vitest';
import { checkSchemas, unknownFields } from './schema.ts';
import type { KubeObject } from '../model/object.ts';

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'apps' },
  spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27.3', ports: [{ containerPort: 80 }] }] } } },
});

describe('schema checks', () => {
  it('pass a valid object', async () => {
    expect(await checkSchemas([deployment()])).toEqual({ problems: [], unchecked: [] });
  });

  it('name the object and field of a type error or a missing required field', async () => {
    const bad = deployment();
    (bad.spec as any).replicas = 'two';
    delete (bad.spec as any).selector;
    const { problems } = await checkSchemas([bad]);
    expect(problems).toEqual(expect.arrayContaining(['Deployment apps/web: spec: must have required property selector', 'Deployment apps/web: spec.replicas: must be integer']));
  });

  it('find fields the Kubernetes API does not define (a typo would otherwise be dropped silently)', async () => {
    const typo = deployment();
    (typo.spec as any).template.spec.containers[0].imagePullPolicyy = 'Always';
    (typo.spec as any).replica = 2;
    expect(unknownFields(typo)).toEqual(['spec.replica', 'spec.template.spec.containers[0].imagePullPolicyy']);
    expect((await checkSchemas([typo])).problems).toEqual([
      'Deployment apps/web: spec.replica: unknown field (not part of apps/v1 Deployment)',
      'Deployment apps/web: spec.template.spec.containers[0].imagePullPolicyy: unknown field (not part of apps/v1 Deployment)',
    ]);
  });

  it('keep map-valued fields whose keys are data (labels, ConfigMap data, resources)', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { 'a.b/c': 'd' } }, data: { 'any-key.json': '{}' } };
    expect(unknownFields(cm)).toEqual([]);
  });

  it('check Cilium custom resources against their schema, and report kinds without one', async () => {
    const pool: KubeObject = { apiVersion: 'cilium.io/v2', kind: 'CiliumLoadBalancerIPPool', metadata: { name: 'p' }, spec: { blocks: [{ start: '10.0.0.40', stop: '10.0.0.49' }], disabled: 'no' } };
    const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    const result = await checkSchemas([pool, widget]);
    expect(result.problems).toEqual(['CiliumLoadBalancerIPPool p: spec.disabled: must be boolean']);
    expect(result.unchecked).toEqual(['example.com/v1 Widget']);
  });
});

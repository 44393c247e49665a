import { it, expect } from 'vitest';
import { programVersion } from '@groundwork/testkit/programs';
import { addNodes, startControlPlane, testNode, throwawaySpec } from '@groundwork/testkit/kube';
import { KubeApi } from './client/api.ts';
it('scale', async () => {
  const plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver')), kwok: false });
  await plane.client.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } });
  const api = KubeApi.fromKubeconfig(plane.kubeconfig(), 'test');
  try { await api.scale({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' } }, 0); } catch (e) { console.log('ERR', e, (e as any).cause); }
  await plane.stop();
}, 60000);

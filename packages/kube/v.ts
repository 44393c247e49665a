import { Deployment } from 'kubernetes-models/apps/v1';
import { CiliumLoadBalancerIPPool } from '@kubernetes-models/cilium/cilium.io/v2alpha1';
const d = new Deployment({ metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', image: 'i', bogus: 1 } as any] } }, foo: 1 } as any });
try { d.validate(); console.log('valid'); } catch (e) { console.log('ERR', (e as Error).message); }
const d2 = new Deployment({ metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', image: 3 } as any] } } } as any });
try { d2.validate(); console.log('valid'); } catch (e) { console.log('ERR', (e as Error).message, Object.keys(e as any)); }
console.log(JSON.stringify(d.toJSON()));

import { describe, expect, it } from 'vitest';
import { allowDns, defaultDeny, isolatedNamespace, networkPolicy, peers, tcp } from '../build/namespace.ts';
import type { KubeObject } from '../model/object.ts';
import { reaches } from './reachability.ts';

const pod = (namespace: string, labels: Record<string, string> = {}) => ({ pod: { namespace, labels } });

// A database namespace that admits clients from another namespace by label, and a jobs namespace whose pods
// may reach that database, DNS, and one bucket address.
const objects = [
  ...isolatedNamespace('db', 'restricted'),
  networkPolicy('db', 'postgres', { pods: { app: 'postgres' }, ingress: [{ peers: [peers.pods('jobs', { client: 'true' })], ports: tcp(5432) }], egress: [] }),
  ...isolatedNamespace('jobs', 'restricted'),
  networkPolicy('jobs', 'backup', {
    pods: { client: 'true' },
    egress: [
      { peers: [peers.pods('db', { app: 'postgres' })], ports: tcp(5432) },
      { peers: [peers.cidr('0.0.0.0/0', ['10.0.0.0/8'])], ports: tcp(443) },
    ],
  }),
] as unknown as KubeObject[];

describe('network reachability of rendered policies', () => {
  it('lets a labelled client reach the database across namespaces, on its port only', () => {
    expect(reaches(objects, { from: pod('jobs', { client: 'true' }), to: pod('db', { app: 'postgres' }), port: 5432 })).toEqual({ allowed: true });
    expect(reaches(objects, { from: pod('jobs', { client: 'true' }), to: pod('db', { app: 'postgres' }), port: 5433 }).allowed).toBe(false);
  });

  it('refuses a pod without the label on both sides, and says which side refuses', () => {
    const verdict = reaches(objects, { from: pod('jobs', { client: 'false' }), to: pod('db', { app: 'postgres' }), port: 5432 });
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(/no egress rule of namespace jobs/);
    // Egress open (a namespace without policies), ingress still closed.
    const open = reaches([], { from: pod('elsewhere'), to: pod('db', { app: 'postgres' }), port: 5432 });
    expect(open.allowed).toBe(true);
    const closed = reaches(objects, { from: pod('elsewhere', { client: 'true' }), to: pod('db', { app: 'postgres' }), port: 5432 });
    expect(closed.reason).toMatch(/no ingress rule of namespace db/);
  });

  it('applies ipBlock exceptions and the DNS allowance every isolated namespace gets', () => {
    expect(reaches(objects, { from: pod('jobs', { client: 'true' }), to: { ip: '203.0.113.9' }, port: 443 }).allowed).toBe(true);
    expect(reaches(objects, { from: pod('jobs', { client: 'true' }), to: { ip: '10.1.2.3' }, port: 443 }).allowed).toBe(false);
    expect(reaches(objects, { from: pod('jobs', { client: 'true' }), to: pod('kube-system', { 'k8s-app': 'kube-dns' }), port: 53, protocol: 'UDP' }).allowed).toBe(true);
    expect(reaches(objects, { from: pod('jobs', { client: 'true' }), to: pod('kube-system', { 'k8s-app': 'kube-dns' }), port: 80 }).allowed).toBe(false);
  });

  it('treats default-deny as closing both directions for every pod of the namespace', () => {
    const closed = [defaultDeny('x'), allowDns('x')] as unknown as KubeObject[];
    expect(reaches(closed, { from: pod('x', { any: 'pod' }), to: { ip: '1.1.1.1' }, port: 443 }).allowed).toBe(false);
    expect(reaches(closed, { from: { ip: '192.168.1.5' }, to: pod('x'), port: 8080 }).allowed).toBe(false);
  });
});

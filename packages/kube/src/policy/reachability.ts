import { ipv4 } from '@groundwork/cluster';
import { isRecord, type KubeObject } from '../model/object.ts';

/**
 * What rendered NetworkPolicies let through, evaluated the way Kubernetes defines it: a pod selected by a
 * policy of a direction is isolated in that direction and reaches (or is reached by) only what one of those
 * policies' rules allows; a pod no policy selects is open. Layers use it to prove, before anything is
 * applied, that a job reaches what it needs and nothing else, including across layers.
 */

export type Endpoint = { pod: { namespace: string; labels: Record<string, string> } } | { ip: string };

export interface Traffic {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export interface Verdict {
  allowed: boolean;
  /** Why not, when it is not: which side's policies refuse it. */
  reason?: string;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export function selectorMatches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok = operator === 'In' ? has && values.includes(labels[key]!) : operator === 'NotIn' ? !has || !values.includes(labels[key]!) : operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}

/** Namespace labels as the API server sets them: the rendered ones, and kubernetes.io/metadata.name always. */
export function namespaceLabels(objects: KubeObject[]): (name: string) => Record<string, string> {
  const rendered = new Map(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels ?? {}]));
  return (name) => ({ ...rendered.get(name), 'kubernetes.io/metadata.name': name });
}

function ipInBlock(ip: string, block: { cidr: string; except?: string[] }): boolean {
  const address = ipv4.parseIPv4(ip);
  const cidr = ipv4.parseCidr(block.cidr);
  if (address === undefined || !cidr || !ipv4.cidrContains(cidr, address)) return false;
  return !(block.except ?? []).some((text) => {
    const except = ipv4.parseCidr(text);
    return except !== undefined && ipv4.cidrContains(except, address);
  });
}

function peerMatches(peer: Record<string, unknown>, policyNamespace: string, other: Endpoint, labelsOf: (ns: string) => Record<string, string>): boolean {
  if (isRecord(peer.ipBlock)) return 'ip' in other && ipInBlock(other.ip, peer.ipBlock as { cidr: string; except?: string[] });
  if (!('pod' in other)) return false;
  const namespaceOk = isRecord(peer.namespaceSelector) ? selectorMatches(peer.namespaceSelector as Selector, labelsOf(other.pod.namespace)) : other.pod.namespace === policyNamespace;
  const podOk = isRecord(peer.podSelector) ? selectorMatches(peer.podSelector as Selector, other.pod.labels) : true;
  return namespaceOk && podOk;
}

function portMatches(ports: unknown, port: number, protocol: string): boolean {
  if (!Array.isArray(ports) || ports.length === 0) return true;
  return ports.some((p: Record<string, unknown>) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const end = typeof p.endPort === 'number' ? p.endPort : p.port;
    return typeof p.port === 'number' && port >= p.port && port <= (end as number);
  });
}

/** Whether one direction lets the traffic through: `undefined` when no policy isolates the pod. */
function direction(policies: KubeObject[], pod: { namespace: string; labels: Record<string, string> }, other: Endpoint, type: 'Ingress' | 'Egress', traffic: Traffic, labelsOf: (ns: string) => Record<string, string>): boolean | undefined {
  const field = type === 'Egress' ? 'egress' : 'ingress';
  const side = type === 'Egress' ? 'to' : 'from';
  let isolated = false;
  for (const policy of policies) {
    if (policy.metadata.namespace !== pod.namespace || !isRecord(policy.spec)) continue;
    const spec = policy.spec;
    const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : ['Ingress', ...(spec.egress ? ['Egress'] : [])];
    if (!types.includes(type) || !selectorMatches(spec.podSelector as Selector, pod.labels)) continue;
    isolated = true;
    for (const rule of (Array.isArray(spec[field]) ? spec[field] : []) as Array<Record<string, unknown>>) {
      const peers = Array.isArray(rule[side]) ? (rule[side] as Array<Record<string, unknown>>) : [];
      const peerOk = peers.length === 0 || peers.some((peer) => peerMatches(peer, pod.namespace, other, labelsOf));
      if (peerOk && portMatches(rule.ports, traffic.port, traffic.protocol ?? 'TCP')) return true;
    }
  }
  return isolated ? false : undefined;
}

const describeEndpoint = (e: Endpoint) => ('ip' in e ? e.ip : `${e.pod.namespace}/${Object.entries(e.pod.labels).map(([k, v]) => `${k}=${v}`).join(',')}`);

export function reaches(objects: KubeObject[], traffic: Traffic): Verdict {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const labelsOf = namespaceLabels(objects);
  const what = `${describeEndpoint(traffic.from)} → ${describeEndpoint(traffic.to)}:${traffic.port}`;
  if ('pod' in traffic.from && direction(policies, traffic.from.pod, traffic.to, 'Egress', traffic, labelsOf) === false) {
    return { allowed: false, reason: `${what}: no egress rule of namespace ${traffic.from.pod.namespace} allows it` };
  }
  if ('pod' in traffic.to && direction(policies, traffic.to.pod, traffic.from, 'Ingress', traffic, labelsOf) === false) {
    return { allowed: false, reason: `${what}: no ingress rule of namespace ${traffic.to.pod.namespace} allows it` };
  }
  return { allowed: true };
}

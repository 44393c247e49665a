import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { ANNOTATIONS } from './labels.ts';

export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

/** `restricted`, or a weaker level together with the reason it is needed (shown in verify and on the object). */
export type PodSecurity = 'restricted' | { level: 'baseline' | 'privileged'; reason: string };

export const POD_SECURITY_LABEL = 'pod-security.kubernetes.io/enforce';

/** A namespace with Pod Security admission enforcing (and auditing and warning at) its level. */
export function namespace(name: string, security: PodSecurity): INamespace {
  const level: PodSecurityLevel = security === 'restricted' ? 'restricted' : security.level;
  const labels: Record<string, string> = {
    'kubernetes.io/metadata.name': name,
    [POD_SECURITY_LABEL]: level,
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/audit': level,
    'pod-security.kubernetes.io/warn': level,
  };
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels, ...(security === 'restricted' ? {} : { annotations: { [ANNOTATIONS.podSecurityReason]: security.reason } }) },
  };
}

export const tcp = (...ports: Array<number | string>): INetworkPolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port }));
export const udp = (...ports: Array<number | string>): INetworkPolicyPort[] => ports.map((port) => ({ protocol: 'UDP', port }));

/** Who traffic may come from or go to. */
export const peers = {
  /** Pods in namespace `ns` (all of them, or those with `labels`). */
  pods(ns: string, labels?: Record<string, string>): INetworkPolicyPeer {
    return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, ...(labels ? { podSelector: { matchLabels: labels } } : {}) };
  },
  /** Any pod in any namespace. */
  anyPod(): INetworkPolicyPeer {
    return { namespaceSelector: {} };
  },
  cidr(cidr: string, except?: string[]): INetworkPolicyPeer {
    return { ipBlock: { cidr, ...(except?.length ? { except } : {}) } };
  },
  /** The internet: every IPv4 address except the private ranges, so a compromised pod cannot roam the LAN. */
  internet(): INetworkPolicyPeer {
    return { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '127.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'] } };
  },
};

export interface PolicyRule {
  peers: INetworkPolicyPeer[];
  ports?: INetworkPolicyPort[];
}

export interface NetworkPolicyInput {
  /** Pods the policy applies to (matchLabels); all pods of the namespace when left out. */
  pods?: Record<string, string>;
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** An allow policy: the listed directions become default-deny for the selected pods, plus these rules. */
export function networkPolicy(namespace: string, name: string, input: NetworkPolicyInput): INetworkPolicy {
  const policyTypes: Array<'Ingress' | 'Egress'> = [];
  if (input.ingress) policyTypes.push('Ingress');
  if (input.egress) policyTypes.push('Egress');
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: {
      podSelector: input.pods ? { matchLabels: input.pods } : {},
      policyTypes,
      ...(input.ingress ? { ingress: input.ingress.map((r) => ({ from: r.peers, ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
      ...(input.egress ? { egress: input.egress.map((r) => ({ to: r.peers, ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
    },
  };
}

/** Nothing in, nothing out, for every pod of the namespace; allows are added next to it. */
export function defaultDeny(namespace: string): INetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } };
}

/** Cluster DNS (CoreDNS, labelled k8s-app=kube-dns in kube-system) for every pod of the namespace. */
export function allowDns(namespace: string): INetworkPolicy {
  return networkPolicy(namespace, 'allow-dns', { egress: [{ peers: [peers.pods('kube-system', { 'k8s-app': 'kube-dns' })], ports: [...udp(53), ...tcp(53)] }] });
}

/**
 * The Kubernetes API as pods reach it: the service address is translated to a control plane's address
 * (port 6443) before policy applies, so the rule names the node network.
 */
export function allowApiServer(namespace: string, nodeCidr: string, pods?: Record<string, string>): INetworkPolicy {
  return networkPolicy(namespace, 'allow-kube-apiserver', { ...(pods ? { pods } : {}), egress: [{ peers: [peers.cidr(nodeCidr)], ports: tcp(6443) }] });
}

/** The usual set for a namespace: default-deny, DNS, and (when the pods talk to it) the API server. */
export function isolatedNamespace(name: string, security: PodSecurity, options: { nodeCidr?: string } = {}): Array<INamespace | INetworkPolicy> {
  const objects: Array<INamespace | INetworkPolicy> = [namespace(name, security), defaultDeny(name), allowDns(name)];
  if (options.nodeCidr) objects.push(allowApiServer(name, options.nodeCidr));
  return objects;
}

import { ANNOTATIONS } from '../build/labels.ts';
import { POD_SECURITY_LABEL, type PodSecurityLevel } from '../build/namespace.ts';
import { describe, isRecord, type KubeObject } from '../model/object.ts';
import { podSecurityViolations } from './pod-security.ts';
import { containersOf, get, isLongRunning, podTemplateOf, replicasOf } from './pods.ts';

export interface Finding {
  rule: 'namespace' | 'pod-security' | 'resources' | 'probes' | 'images' | 'secrets' | 'network' | 'disruption';
  object: string;
  field?: string;
  message: string;
}

export function formatFinding(finding: Finding): string {
  return `${finding.object}: ${finding.field ? `${finding.field}: ` : ''}${finding.message} [${finding.rule}]`;
}

export interface PolicyContext {
  /** Pod Security levels of namespaces rendered by other layers, so pods placed there can be checked. */
  namespaces?: Map<string, PodSecurityLevel>;
}

const LEVELS: PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];

function namespaceLevels(objects: KubeObject[], context: PolicyContext): Map<string, PodSecurityLevel> {
  const levels = new Map(context.namespaces ?? []);
  for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
    const level = ns.metadata.labels?.[POD_SECURITY_LABEL];
    if (level && (LEVELS as string[]).includes(level)) levels.set(ns.metadata.name, level as PodSecurityLevel);
  }
  return levels;
}

function checkNamespaces(objects: KubeObject[], out: Finding[]): void {
  for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
    const object = describe(ns);
    const level = ns.metadata.labels?.[POD_SECURITY_LABEL];
    if (!level) out.push({ rule: 'namespace', object, field: `metadata.labels[${POD_SECURITY_LABEL}]`, message: 'missing: every namespace enforces a Pod Security level' });
    else if (!(LEVELS as string[]).includes(level)) out.push({ rule: 'namespace', object, field: `metadata.labels[${POD_SECURITY_LABEL}]`, message: `unknown level "${level}"` });
    else if (level !== 'restricted' && !ns.metadata.annotations?.[ANNOTATIONS.podSecurityReason]) {
      out.push({ rule: 'namespace', object, field: `metadata.annotations[${ANNOTATIONS.podSecurityReason}]`, message: `level ${level} needs a reason (anything weaker than restricted is an explicit exception)` });
    }
  }
}

const IMAGE_PINNED = /^(?:[^/]+\/)*[^/:@]+(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$/;

function checkPods(objects: KubeObject[], levels: Map<string, PodSecurityLevel>, out: Finding[]): void {
  for (const workload of objects) {
    const pod = podTemplateOf(workload);
    if (!pod) continue;
    const object = describe(workload);
    const namespace = workload.metadata.namespace ?? 'default';
    const level = levels.get(namespace);
    if (!level) out.push({ rule: 'pod-security', object, message: `namespace ${namespace} is not rendered by any layer, so its Pod Security level is unknown` });
    else for (const v of podSecurityViolations(pod, level)) out.push({ rule: 'pod-security', object, field: v.field, message: `${v.message} (namespace ${namespace} enforces ${level})` });

    for (const ref of containersOf(pod)) {
      const requests = get(ref.container, 'resources', 'requests');
      const limits = get(ref.container, 'resources', 'limits');
      for (const key of ['cpu', 'memory']) {
        if (!isRecord(requests) || requests[key] === undefined) out.push({ rule: 'resources', object, field: `${ref.path}.resources.requests.${key}`, message: 'missing' });
      }
      if (!isRecord(limits) || limits.memory === undefined) out.push({ rule: 'resources', object, field: `${ref.path}.resources.limits.memory`, message: 'missing' });

      const image = String(ref.container.image ?? '');
      const match = IMAGE_PINNED.exec(image);
      const digest = image.includes('@sha256:');
      if (!match || (!match[1] && !digest)) out.push({ rule: 'images', object, field: `${ref.path}.image`, message: `"${image}" is not pinned (give a version tag or a digest)` });
      else if (match[1] === 'latest' && !digest) out.push({ rule: 'images', object, field: `${ref.path}.image`, message: `"${image}" uses the moving tag latest` });

      if (isLongRunning(workload) && ref.kind === 'containers') {
        for (const probe of ['livenessProbe', 'readinessProbe']) {
          if (!isRecord(ref.container[probe])) out.push({ rule: 'probes', object, field: `${ref.path}.${probe}`, message: 'missing on a long-running container' });
        }
      }
    }
  }
}

function checkSecrets(objects: KubeObject[], out: Finding[]): void {
  for (const secret of objects.filter((o) => o.kind === 'Secret')) {
    out.push({ rule: 'secrets', object: describe(secret), message: 'plaintext Secret in rendered output: declare it in the layer\'s src/secrets.ts so it is stored SOPS-encrypted' });
  }
}

function isDefaultDeny(policy: KubeObject): boolean {
  const spec = isRecord(policy.spec) ? policy.spec : {};
  const selector = isRecord(spec.podSelector) ? spec.podSelector : undefined;
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  const emptySelector = selector !== undefined && Object.keys(selector).every((k) => Object.keys((selector as Record<string, object>)[k] ?? {}).length === 0);
  return emptySelector && types.includes('Ingress') && types.includes('Egress') && !spec.ingress && !spec.egress;
}

function checkNetwork(objects: KubeObject[], out: Finding[]): void {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
    const name = ns.metadata.name;
    const inNamespace = policies.filter((p) => p.metadata.namespace === name);
    const denies = inNamespace.filter(isDefaultDeny);
    if (denies.length === 0) {
      out.push({ rule: 'network', object: describe(ns), message: 'no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)' });
      continue;
    }
    const podNetworked = objects.some((o) => o.metadata.namespace === name && podTemplateOf(o) && podTemplateOf(o)!.spec.hostNetwork !== true);
    if (podNetworked && inNamespace.length === denies.length) out.push({ rule: 'network', object: describe(ns), message: 'default-deny without any allow policy: its pods can reach nothing, not even DNS' });
  }
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels = get(selector, 'matchLabels');
  if (!isRecord(matchLabels) || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

function checkDisruption(objects: KubeObject[], out: Finding[]): void {
  const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  for (const workload of objects) {
    const replicas = replicasOf(workload);
    const pod = podTemplateOf(workload);
    if (replicas === undefined || replicas <= 1 || !pod) continue;
    const object = describe(workload);
    if (!budgets.some((b) => b.metadata.namespace === workload.metadata.namespace && selects(get(b, 'spec', 'selector'), pod.labels))) {
      out.push({ rule: 'disruption', object, message: `${replicas} replicas but no PodDisruptionBudget selects them (a node drain may stop all at once)` });
    }
    const spread = Array.isArray(pod.spec.topologySpreadConstraints) && pod.spec.topologySpreadConstraints.length > 0;
    const antiAffinity = get(pod.spec, 'affinity', 'podAntiAffinity') !== undefined;
    if (!spread && !antiAffinity) out.push({ rule: 'disruption', object, field: `${pod.path}.topologySpreadConstraints`, message: `${replicas} replicas but nothing spreads them over nodes (they may all land on one)` });
  }
}

/** Every static policy over a layer's rendered objects. */
export function checkPolicies(objects: KubeObject[], context: PolicyContext = {}): Finding[] {
  const out: Finding[] = [];
  checkNamespaces(objects, out);
  checkPods(objects, namespaceLevels(objects, context), out);
  checkSecrets(objects, out);
  checkNetwork(objects, out);
  checkDisruption(objects, out);
  return out;
}

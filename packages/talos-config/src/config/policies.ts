/**
 * API-server policies groundwork sets on every cluster, each decided against Talos's own default.
 *
 * Pod Security: Talos's default, kept. `baseline` is enforced where a namespace says nothing, and `restricted`
 * is audited and warned about. Every namespace groundwork creates carries its own labels (`restricted`, or
 * `privileged` with the reason in an annotation), so its workloads get restricted regardless; a namespace a
 * person adds later for a third-party chart gets what a talosctl cluster gives it, instead of having its pods
 * refused for settings most charts do not make. kube-system stays exempt, as in Talos.
 */
export function podSecurityDefaults(): Record<string, unknown> {
  return {
    apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
    kind: 'PodSecurityConfiguration',
    defaults: {
      enforce: 'baseline',
      'enforce-version': 'latest',
      audit: 'restricted',
      'audit-version': 'latest',
      warn: 'restricted',
      'warn-version': 'latest',
    },
    exemptions: { usernames: [], runtimeClasses: [], namespaces: ['kube-system'] },
  };
}

/**
 * Audit policy: who did what, when, with what result; never a request or response body (Secret values and
 * tokens cannot leak into the log, and on a Pi's SD card the log stays small). First matching rule wins:
 * health probes, the kubelets' own reads, events and leader-election leases (most of the traffic and none
 * of the interest) are dropped; everything else is logged at Metadata, which is Talos's one rule.
 */
export function auditPolicy(): Record<string, unknown> {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version', '/metrics'] },
      { level: 'None', userGroups: ['system:nodes'], verbs: ['get', 'list', 'watch'] },
      { level: 'None', resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
      { level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
      { level: 'Metadata' },
    ],
  };
}

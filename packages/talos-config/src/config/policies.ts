/**
 * API-server policies groundwork sets on every cluster.
 *
 * Pod Security: `restricted` is enforced for every namespace that does not say otherwise (Talos's own default
 * enforces only `baseline`). groundwork labels each namespace it creates with the level it needs, so only
 * namespaces a person creates without labels fall back to this. kube-system stays exempt, as in Talos.
 */
export function podSecurityDefaults(): Record<string, unknown> {
  return {
    apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
    kind: 'PodSecurityConfiguration',
    defaults: {
      enforce: 'restricted',
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
 * Audit policy: who changed what, without ever recording Secret values. First matching rule wins:
 * health probes and noisy system reads are dropped, Secrets/ConfigMaps/tokens are logged at Metadata
 * level only, writes are logged with their request body, everything else at Metadata.
 */
export function auditPolicy(): Record<string, unknown> {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version', '/metrics'] },
      { level: 'None', users: ['system:kube-proxy'], verbs: ['watch'], resources: [{ group: '', resources: ['endpoints', 'services', 'services/status'] }] },
      { level: 'None', userGroups: ['system:nodes'], verbs: ['get', 'list', 'watch'] },
      { level: 'None', resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
      { level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
      {
        level: 'Metadata',
        resources: [
          { group: '', resources: ['secrets', 'configmaps', 'serviceaccounts/token'] },
          { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
        ],
      },
      { level: 'Request', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
      { level: 'Metadata' },
    ],
  };
}

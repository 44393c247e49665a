import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';

/** The unprivileged user distroless and most upstream images provide. */
export const NONROOT_UID = 65532;

/** Pod-level defaults of the Pod Security "restricted" profile: non-root, RuntimeDefault seccomp. */
export function restrictedPodSecurity(user: number = NONROOT_UID, overrides: IPodSecurityContext = {}): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    fsGroup: user,
    seccompProfile: { type: 'RuntimeDefault' },
    ...overrides,
  };
}

/** Container-level defaults: no privilege escalation, every capability dropped, read-only root filesystem. */
export function restrictedContainerSecurity(overrides: ISecurityContext = {}): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    ...overrides,
  };
}

import { isRecord } from '../model/object.ts';
import type { PodSecurityLevel } from '../build/namespace.ts';
import { containersOf, get, type PodTemplate } from './pods.ts';

/**
 * The Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards), checked the
 * way the PodSecurity admission controller checks them, so that a pod that passes here is admitted in a
 * namespace enforcing the same level. Each violation names the field.
 */

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret', 'image']);

export interface Violation {
  field: string;
  message: string;
}

function baseline(pod: PodTemplate): Violation[] {
  const out: Violation[] = [];
  const spec = pod.spec;
  const podSecurity = isRecord(spec.securityContext) ? spec.securityContext : {};
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[ns] === true) out.push({ field: `${pod.path}.${ns}`, message: 'host namespaces are not allowed' });
  }
  if (get(podSecurity, 'windowsOptions', 'hostProcess') === true) out.push({ field: `${pod.path}.securityContext.windowsOptions.hostProcess`, message: 'HostProcess pods are not allowed' });
  for (const [i, volume] of (Array.isArray(spec.volumes) ? spec.volumes : []).entries()) {
    if (isRecord(volume) && volume.hostPath !== undefined) out.push({ field: `${pod.path}.volumes[${String(volume.name ?? i)}].hostPath`, message: 'hostPath volumes are not allowed' });
  }
  const checkSeLinux = (ctx: Record<string, unknown>, path: string) => {
    const se = isRecord(ctx.seLinuxOptions) ? ctx.seLinuxOptions : undefined;
    if (!se) return;
    if (!SELINUX_TYPES.has(String(se.type ?? ''))) out.push({ field: `${path}.seLinuxOptions.type`, message: `SELinux type ${String(se.type)} is not allowed` });
    if (se.user || se.role) out.push({ field: `${path}.seLinuxOptions`, message: 'custom SELinux user or role is not allowed' });
  };
  const checkProfiles = (ctx: Record<string, unknown>, path: string) => {
    if (get(ctx, 'seccompProfile', 'type') === 'Unconfined') out.push({ field: `${path}.seccompProfile.type`, message: 'seccomp Unconfined is not allowed' });
    if (get(ctx, 'appArmorProfile', 'type') === 'Unconfined') out.push({ field: `${path}.appArmorProfile.type`, message: 'AppArmor Unconfined is not allowed' });
  };
  checkSeLinux(podSecurity, `${pod.path}.securityContext`);
  checkProfiles(podSecurity, `${pod.path}.securityContext`);
  for (const [i, sysctl] of (Array.isArray(podSecurity.sysctls) ? podSecurity.sysctls : []).entries()) {
    const name = isRecord(sysctl) ? String(sysctl.name) : '';
    if (!SAFE_SYSCTLS.has(name)) out.push({ field: `${pod.path}.securityContext.sysctls[${i}]`, message: `sysctl ${name} is not in the safe set` });
  }
  for (const [key, value] of Object.entries(pod.annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value === 'unconfined') out.push({ field: `metadata.annotations[${key}]`, message: 'AppArmor unconfined is not allowed' });
  }
  for (const ref of containersOf(pod)) {
    const ctx = isRecord(ref.container.securityContext) ? ref.container.securityContext : {};
    const path = `${ref.path}.securityContext`;
    if (ctx.privileged === true) out.push({ field: `${path}.privileged`, message: 'privileged containers are not allowed' });
    if (get(ctx, 'windowsOptions', 'hostProcess') === true) out.push({ field: `${path}.windowsOptions.hostProcess`, message: 'HostProcess containers are not allowed' });
    for (const cap of (get(ctx, 'capabilities', 'add') as string[] | undefined) ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) out.push({ field: `${path}.capabilities.add`, message: `capability ${cap} is not allowed` });
    }
    if (ctx.procMount !== undefined && ctx.procMount !== 'Default') out.push({ field: `${path}.procMount`, message: 'only the Default /proc mount is allowed' });
    checkSeLinux(ctx, path);
    checkProfiles(ctx, path);
    for (const port of Array.isArray(ref.container.ports) ? ref.container.ports : []) {
      if (isRecord(port) && typeof port.hostPort === 'number' && port.hostPort !== 0) out.push({ field: `${ref.path}.ports[${String(port.name ?? port.containerPort)}].hostPort`, message: 'host ports are not allowed' });
    }
  }
  return out;
}

function restricted(pod: PodTemplate): Violation[] {
  const out: Violation[] = [];
  const spec = pod.spec;
  const podSecurity = isRecord(spec.securityContext) ? spec.securityContext : {};
  for (const [i, volume] of (Array.isArray(spec.volumes) ? spec.volumes : []).entries()) {
    if (!isRecord(volume)) continue;
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (type && !RESTRICTED_VOLUMES.has(type)) out.push({ field: `${pod.path}.volumes[${String(volume.name ?? i)}].${type}`, message: `volume type ${type} is not allowed` });
  }
  if (podSecurity.runAsUser === 0) out.push({ field: `${pod.path}.securityContext.runAsUser`, message: 'running as root (UID 0) is not allowed' });
  const podSeccomp = get(podSecurity, 'seccompProfile', 'type');
  for (const ref of containersOf(pod)) {
    const ctx = isRecord(ref.container.securityContext) ? ref.container.securityContext : {};
    const path = `${ref.path}.securityContext`;
    if (ctx.allowPrivilegeEscalation !== false) out.push({ field: `${path}.allowPrivilegeEscalation`, message: 'must be false' });
    const nonRoot = ctx.runAsNonRoot ?? podSecurity.runAsNonRoot;
    if (nonRoot !== true) out.push({ field: `${path}.runAsNonRoot`, message: 'must be true (here or in the pod securityContext)' });
    if (ctx.runAsUser === 0) out.push({ field: `${path}.runAsUser`, message: 'running as root (UID 0) is not allowed' });
    const seccomp = get(ctx, 'seccompProfile', 'type') ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push({ field: `${path}.seccompProfile.type`, message: 'must be RuntimeDefault or Localhost (here or in the pod securityContext)' });
    const drop = (get(ctx, 'capabilities', 'drop') as string[] | undefined) ?? [];
    if (!drop.includes('ALL')) out.push({ field: `${path}.capabilities.drop`, message: 'must include ALL' });
    for (const cap of (get(ctx, 'capabilities', 'add') as string[] | undefined) ?? []) {
      if (cap !== 'NET_BIND_SERVICE') out.push({ field: `${path}.capabilities.add`, message: `only NET_BIND_SERVICE may be added, not ${cap}` });
    }
  }
  return out;
}

/** What keeps the pod out of a namespace enforcing `level` (nothing when it would be admitted). */
export function podSecurityViolations(pod: PodTemplate, level: PodSecurityLevel): Violation[] {
  if (level === 'privileged') return [];
  const violations = baseline(pod);
  if (level === 'restricted') violations.push(...restricted(pod));
  return violations;
}

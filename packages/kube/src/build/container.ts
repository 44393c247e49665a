import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { ILifecycle } from 'kubernetes-models/v1/Lifecycle';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { restrictedContainerSecurity } from './security.ts';

/**
 * Requests are what the scheduler reserves; the memory limit is what the kernel enforces. CPU limits
 * are left out on purpose unless asked for: they throttle bursts without protecting anyone else.
 */
export interface Resources {
  cpu: string;
  memory: string;
  memoryLimit: string;
  cpuLimit?: string;
}

export function resources(spec: Resources): IResourceRequirements {
  return {
    requests: { cpu: spec.cpu, memory: spec.memory },
    limits: { memory: spec.memoryLimit, ...(spec.cpuLimit ? { cpu: spec.cpuLimit } : {}) },
  };
}

export interface ProbeTiming {
  periodSeconds?: number;
  failureThreshold?: number;
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
}

export function httpProbe(path: string, port: string | number, timing: ProbeTiming & { scheme?: 'HTTP' | 'HTTPS' } = {}): IProbe {
  const { scheme, ...rest } = timing;
  return { httpGet: { path, port, ...(scheme === 'HTTPS' ? { scheme } : {}) }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, ...rest };
}

export function execProbe(command: string[], timing: ProbeTiming = {}): IProbe {
  return { exec: { command }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, ...timing };
}

export function tcpProbe(port: string | number, timing: ProbeTiming = {}): IProbe {
  return { tcpSocket: { port }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, ...timing };
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string | IEnvVar['valueFrom']>;
  /** Named container ports: { http: 8000 } (TCP unless the name ends in "-udp"). */
  ports?: Record<string, number>;
  resources: Resources;
  liveness?: IProbe;
  readiness?: IProbe;
  startup?: IProbe;
  mounts?: IVolumeMount[];
  /** Hooks around start and stop, e.g. a preStop that shuts a database down the fast way. */
  lifecycle?: ILifecycle;
  /** Merged over the restricted defaults; exceptions must be visible here, in the component. */
  security?: ISecurityContext;
  /**
   * A Go program: GOMEMLIMIT is set to the memory limit, so its garbage collector works harder as it nears the
   * limit instead of letting the heap grow into the kernel's OOM kill.
   */
  goMemoryLimit?: boolean;
}

/**
 * The tag of an image reference ('' when it has none): `registry:5000/repo:1.2@sha256:…` gives `1.2`. A digest
 * and a registry's port are not tags.
 */
export function imageTag(image: string): string {
  const name = image.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '';
}

/** A container with the hardened defaults; only what differs has to be written down. */
export function container(spec: ContainerSpec): IContainer {
  const vars = { ...spec.env, ...(spec.goMemoryLimit ? { GOMEMLIMIT: { resourceFieldRef: { resource: 'limits.memory' } } } : {}) };
  const env = Object.entries(vars).map(([name, value]): IEnvVar => (typeof value === 'string' ? { name, value } : { name, valueFrom: value }));
  const ports = Object.entries(spec.ports ?? {}).map(([name, containerPort]) => ({
    name,
    containerPort,
    protocol: name.endsWith('-udp') ? ('UDP' as const) : ('TCP' as const),
  }));
  return {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    ...(env.length ? { env } : {}),
    ...(ports.length ? { ports } : {}),
    resources: resources(spec.resources),
    ...(spec.liveness ? { livenessProbe: spec.liveness } : {}),
    ...(spec.readiness ? { readinessProbe: spec.readiness } : {}),
    ...(spec.startup ? { startupProbe: spec.startup } : {}),
    ...(spec.mounts?.length ? { volumeMounts: spec.mounts } : {}),
    ...(spec.lifecycle ? { lifecycle: spec.lifecycle } : {}),
    securityContext: restrictedContainerSecurity(spec.security),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** env entries that read from the pod itself (downward API). */
export const fieldRef = (fieldPath: string): IEnvVar['valueFrom'] => ({ fieldRef: { apiVersion: 'v1', fieldPath } });
export const secretKeyRef = (name: string, key: string): IEnvVar['valueFrom'] => ({ secretKeyRef: { name, key } });

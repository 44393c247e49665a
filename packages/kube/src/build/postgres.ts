import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ANNOTATIONS, type App } from './labels.ts';
import { container, execProbe, type ContainerSpec, type Resources } from './container.ts';
import { statefulSet } from './workloads.ts';

/** The postgres user and group of the official (Debian) PostgreSQL image. */
export const POSTGRES_IMAGE_USER = 999;
/** A folder below the volume's root, as the official image advises (a fresh volume may hold lost+found). */
export const POSTGRES_DATA = '/var/lib/postgresql/data/pgdata';
export const POSTGRES_PORT = 5432;

export interface PostgresInput {
  image: string;
  /** PGDATA and what the image's first start reads (POSTGRES_PASSWORD, …); PGDATA is set here. */
  env: NonNullable<ContainerSpec['env']>;
  args?: string[];
  resources: Resources;
  volumeSize: string;
  /** Why one replica is acceptable, for the resilience report. */
  singleReplicaReason: string;
  /** pg_isready's extra arguments (e.g. the user it names). */
  readyArgs?: string[];
  podAnnotations?: Record<string, string>;
  mounts?: IVolumeMount[];
  volumes?: IVolume[];
}

/** The official PostgreSQL image as one replica on a volume, as its own user, stopped the fast way. */
export function postgresStatefulSet(app: App, input: PostgresInput): IStatefulSet {
  const ready = ['pg_isready', '--host=127.0.0.1', `--port=${POSTGRES_PORT}`, ...(input.readyArgs ?? []), '--quiet'];
  const postgres: IContainer = container({
    name: 'postgres',
    image: input.image,
    ...(input.args ? { args: input.args } : {}),
    env: { PGDATA: POSTGRES_DATA, ...input.env },
    ports: { postgres: POSTGRES_PORT },
    resources: input.resources,
    // The first start initialises the data directory behind a socket-only server: not ready until it listens.
    startup: execProbe(ready, { periodSeconds: 5, failureThreshold: 120 }),
    readiness: execProbe(ready, { periodSeconds: 10 }),
    liveness: execProbe(ready, { periodSeconds: 30, failureThreshold: 6 }),
    // SIGTERM asks for a "smart" shutdown, which waits for pooled connections to close (they never do) until
    // the kubelet kills it; a fast shutdown rolls back open transactions and stops cleanly.
    lifecycle: { preStop: { exec: { command: ['pg_ctl', 'stop', `--pgdata=${POSTGRES_DATA}`, '--mode=fast', '--wait'] } } },
    mounts: [
      { name: 'data', mountPath: '/var/lib/postgresql/data' },
      { name: 'run', mountPath: '/var/run/postgresql' },
      { name: 'tmp', mountPath: '/tmp' },
      ...(input.mounts ?? []),
    ],
  });
  const user = POSTGRES_IMAGE_USER;
  return statefulSet(app, {
    replicas: 1,
    annotations: { [ANNOTATIONS.singleReplicaReason]: input.singleReplicaReason },
    volumeClaims: [{ name: 'data', size: input.volumeSize }],
    pod: {
      ...(input.podAnnotations ? { annotations: input.podAnnotations } : {}),
      security: { runAsNonRoot: true, runAsUser: user, runAsGroup: user, fsGroup: user, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [postgres],
      volumes: [{ name: 'run', emptyDir: {} }, { name: 'tmp', emptyDir: {} }, ...(input.volumes ?? [])],
      spec: { terminationGracePeriodSeconds: 60 },
    },
  });
}

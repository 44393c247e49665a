import { ANNOTATIONS, container, deployment, disruptionBudget, httpProbe, type App, type Resources } from '@groundwork/kube';
import { GRACE_SECONDS, type Env } from '../config/env.ts';
import { PORTS } from '../names.ts';
import { IMAGES } from '../versions.ts';

/** The image's user (node, uid 1000), whose home holds n8n's settings (.n8n) and caches (.cache). */
const NODE_USER = 1000;
export const HOME = '/home/node';

export interface ProcessInput {
  /** The container's name: the log store and the dashboards tell the processes apart by it. */
  container: string;
  replicas: number;
  args: string[];
  env: Env;
  resources: Resources;
  /** Why one replica is enough (or all there may be), when there is one. */
  singleReplicaReason?: string;
  /** Recreate for main: two main processes must never run at once, not even during an update. */
  strategy?: 'RollingUpdate' | 'Recreate';
}

/**
 * One n8n process kind (main, worker or webhook processor) as a Deployment, plus a disruption budget when it
 * runs more than once. All three answer /healthz (alive) and /healthz/readiness (database and queue
 * connected, migrations done) on port 5678, and expose /metrics there for Prometheus.
 */
export function n8nProcess(app: App, input: ProcessInput): object[] {
  const objects: object[] = [
    deployment(app, {
      replicas: input.replicas,
      ...(input.strategy ? { strategy: input.strategy } : {}),
      ...(input.replicas === 1 && input.singleReplicaReason ? { annotations: { [ANNOTATIONS.singleReplicaReason]: input.singleReplicaReason } } : {}),
      pod: {
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(PORTS.n8n), 'prometheus.io/path': '/metrics' },
        security: { runAsNonRoot: true, runAsUser: NODE_USER, runAsGroup: NODE_USER, fsGroup: NODE_USER, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: input.container,
            image: IMAGES.n8n,
            args: input.args,
            env: input.env,
            ports: { http: PORTS.n8n },
            resources: input.resources,
            // The first start runs the database migrations: minutes on a Raspberry Pi.
            startup: httpProbe('/healthz', 'http', { periodSeconds: 10, failureThreshold: 60 }),
            readiness: httpProbe('/healthz/readiness', 'http', { periodSeconds: 10, failureThreshold: 3 }),
            liveness: httpProbe('/healthz', 'http', { periodSeconds: 30, failureThreshold: 5 }),
            // The root filesystem stays read-only: n8n writes only to its home (settings, caches) and /tmp.
            mounts: [
              { name: 'home', mountPath: HOME },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          }),
        ],
        volumes: [
          { name: 'home', emptyDir: { sizeLimit: '512Mi' } },
          { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
        ],
        // Longer than N8N_GRACEFUL_SHUTDOWN_TIMEOUT: running executions finish before the kubelet kills the pod.
        spec: { terminationGracePeriodSeconds: GRACE_SECONDS },
      },
    }),
  ];
  if (input.replicas > 1) objects.push(disruptionBudget(app));
  return objects;
}

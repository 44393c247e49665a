import { durationHours, n8nHost, type LoadedCluster } from '@groundwork/cluster';
import { secretKeyRef, type ContainerSpec } from '@groundwork/kube';
import { DATABASE, PORTS, SECRETS, serviceHost } from '../names.ts';

export type Env = NonNullable<ContainerSpec['env']>;

/** n8n's own timeout for running executions after SIGTERM; the pods get longer (GRACE_SECONDS). */
export const SHUTDOWN_SECONDS = 30;
export const GRACE_SECONDS = 60;

export const publicUrl = (cluster: LoadedCluster) => `https://${n8nHost(cluster.config)}/`;

/** What main, workers and webhook processors all need: the database, the queue, the key, the clock. */
function shared(cluster: LoadedCluster): Env {
  const { timezone } = cluster.config.features.n8n;
  return {
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: serviceHost('postgres'),
    DB_POSTGRESDB_PORT: String(PORTS.postgres),
    DB_POSTGRESDB_DATABASE: DATABASE.name,
    DB_POSTGRESDB_USER: DATABASE.user,
    DB_POSTGRESDB_PASSWORD: secretKeyRef(SECRETS.postgres.name, SECRETS.postgres.n8n),
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_REDIS_HOST: serviceHost('valkey'),
    QUEUE_BULL_REDIS_PORT: String(PORTS.valkey),
    QUEUE_BULL_REDIS_PASSWORD: secretKeyRef(SECRETS.valkey.name, SECRETS.valkey.key),
    QUEUE_BULL_REDIS_DB: '0',
    // One key for every process: a process with another one refuses to start.
    N8N_ENCRYPTION_KEY: secretKeyRef(SECRETS.encryptionKey.name, SECRETS.encryptionKey.key),
    OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
    N8N_PORT: String(PORTS.n8n),
    N8N_HOST: n8nHost(cluster.config),
    N8N_PROTOCOL: 'https',
    // Resume and form URLs the workers write into executions must be the public ones.
    N8N_WEBHOOK_URL: publicUrl(cluster),
    GENERIC_TIMEZONE: timezone,
    TZ: timezone,
    N8N_LOG_LEVEL: 'info',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: String(SHUTDOWN_SECONDS),
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    // Pinned at today's default: 3.0 lowers it to 60 seconds, which long Code nodes would hit.
    N8N_RUNNERS_TASK_TIMEOUT: '300',
    N8N_METRICS: 'true',
    // Workflow success and failure counters (the alerts and the dashboard read them).
    N8N_METRICS_INCLUDE_MESSAGE_EVENT_BUS_METRICS: 'true',
  };
}

/** The main process: editor, API, triggers and schedules, execution pruning; behind the Ingress. */
export function mainEnv(cluster: LoadedCluster): Env {
  const { webhookProcessors, executions } = cluster.config.features.n8n;
  return {
    ...shared(cluster),
    N8N_EDITOR_BASE_URL: publicUrl(cluster),
    // Traefik is the one proxy in front: trust its X-Forwarded-For, nothing before it.
    N8N_PROXY_HOPS: '1',
    N8N_METRICS_INCLUDE_QUEUE_METRICS: 'true',
    EXECUTIONS_DATA_PRUNE: 'true',
    EXECUTIONS_DATA_MAX_AGE: String(durationHours(executions.maxAge)),
    EXECUTIONS_DATA_PRUNE_MAX_COUNT: String(executions.maxCount),
    // Production webhooks go to the webhook processors (the Ingress routes /webhook/ there).
    ...(webhookProcessors > 0 ? { N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' } : {}),
  };
}

/** A worker: takes executions off the queue; its health server answers the probes and Prometheus. */
export function workerEnv(cluster: LoadedCluster): Env {
  return { ...shared(cluster), QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(PORTS.n8n) };
}

/** A webhook processor: receives /webhook/* and queues the executions. */
export function webhookEnv(cluster: LoadedCluster): Env {
  return { ...shared(cluster), N8N_PROXY_HOPS: '1' };
}

export const workerArgs = (cluster: LoadedCluster) => ['worker', `--concurrency=${cluster.config.features.n8n.concurrency}`];

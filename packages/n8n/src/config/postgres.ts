import type { LoadedCluster } from '@groundwork/cluster';
import { DATABASE } from '../names.ts';

/** Where the official image keeps its data: a subfolder, so the volume's own root (lost+found) stays out of it. */
export { POSTGRES_DATA as PGDATA } from '@groundwork/kube';
export const INIT_DIR = '/docker-entrypoint-initdb.d';
export const INIT_SCRIPT = 'create-n8n-role.sh';

/** Connections each n8n process holds (its pool) and what the rest (backups, an admin session) may need. */
const POOL_PER_PROCESS = 2;
const SPARE_CONNECTIONS = 15;

/**
 * Server settings for a small node: a 1Gi container on a Raspberry Pi next to n8n itself. Every one of them
 * exists in PostgreSQL 15 through 17, so the end-to-end test can start Debian's server with them.
 */
export function postgresSettings(cluster: LoadedCluster): Record<string, string> {
  const { workers, webhookProcessors } = cluster.config.features.n8n;
  const processes = 1 + workers + webhookProcessors;
  const connections = Math.max(40, Math.ceil((processes * POOL_PER_PROCESS + SPARE_CONNECTIONS) / 10) * 10);
  return {
    max_connections: String(connections),
    shared_buffers: '128MB',
    effective_cache_size: '384MB',
    work_mem: '4MB',
    maintenance_work_mem: '64MB',
    // SD cards and SSDs: random reads cost about what sequential ones do.
    random_page_cost: '1.1',
    max_wal_size: '512MB',
    min_wal_size: '64MB',
    wal_compression: 'on',
    checkpoint_completion_target: '0.9',
    // JIT compiles queries to machine code: a loss for n8n's small queries, and memory a Pi does not have.
    jit: 'off',
    huge_pages: 'off',
    password_encryption: 'scram-sha-256',
    log_min_duration_statement: '1000',
    log_checkpoints: 'on',
  };
}

/** `postgres` arguments: one `-c name=value` per setting. */
export function postgresArgs(cluster: LoadedCluster): string[] {
  return Object.entries(postgresSettings(cluster)).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/**
 * Runs once, on the first start, when the image's entrypoint initialises an empty data directory: the n8n
 * role may log in and owns its database and schema, nothing more (no superuser, no other databases).
 * The password arrives in N8N_DB_PASSWORD and reaches the server as a psql variable, never as SQL text.
 */
export function initScript(): string {
  return `#!/bin/sh
# Created by groundwork: the n8n database and its least-privilege role (runs once, on an empty data directory).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --set=password="$N8N_DB_PASSWORD" <<'SQL'
CREATE ROLE ${DATABASE.user} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';
CREATE DATABASE ${DATABASE.name} OWNER ${DATABASE.user};
REVOKE ALL ON DATABASE ${DATABASE.name} FROM PUBLIC;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
\\connect ${DATABASE.name}
ALTER SCHEMA public OWNER TO ${DATABASE.user};
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
`;
}

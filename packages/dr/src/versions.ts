import { N8N_IMAGES } from '@groundwork/n8n';

/**
 * Every image the dr layer runs, in one place (Renovate's regex manager bumps the runner's). The database
 * and n8n images are the n8n layer's own: pg_dump must be as new as the server it dumps, and n8n's export
 * and import commands must speak the schema of the n8n that wrote it.
 */
export const IMAGES = {
  /** Runs the bundled runner (node:24 on Debian, like the PostgreSQL image, so its tools and libc agree). */
  runner: 'docker.io/library/node:24.21.0-bookworm-slim',
  postgres: N8N_IMAGES.postgres,
  n8n: N8N_IMAGES.n8n,
} as const;

/** The users the images run as: node and n8n's `node` (1000), PostgreSQL's `postgres` (999). */
export const IMAGE_USERS = { runner: 1000, postgres: 999, n8n: 1000 } as const;

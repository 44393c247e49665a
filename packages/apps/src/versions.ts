/**
 * The images the apps layer adds on its own (Renovate's regex manager bumps them): the PostgreSQL an app
 * with `database: { engine: postgres }` gets. The apps' own images are pinned in their app files.
 */
export const IMAGES = {
  postgres: 'docker.io/library/postgres:17.10-bookworm',
} as const;

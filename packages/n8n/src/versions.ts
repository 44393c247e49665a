import { imageTag } from '@groundwork/kube';

/**
 * Every image the n8n layer deploys, in one place (Renovate's regex manager bumps them). The n8n tag is
 * also the npm version the end-to-end test installs and boots, so the two cannot drift apart.
 */
export const IMAGES = {
  n8n: 'docker.n8n.io/n8nio/n8n:2.41.1',
  postgres: 'docker.io/library/postgres:17.10-bookworm',
  valkey: 'docker.io/valkey/valkey:8.1.11-alpine',
} as const;

/** The tag of an image: the one reader of image references is the kube library's. */
export { imageTag as tagOf };

/** The n8n release the image runs, as an npm version. */
export const N8N_VERSION = imageTag(IMAGES.n8n);

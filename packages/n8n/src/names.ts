import type { App } from '@groundwork/kube';
import { IMAGES, tagOf } from './versions.ts';

/** Everything the layer runs lives here. */
export const NAMESPACE = 'n8n';
export const PORTS = { n8n: 5678, postgres: 5432, valkey: 6379 } as const;

const n8n = (instance: string, component: string): App => ({ name: 'n8n', instance, namespace: NAMESPACE, component, partOf: 'n8n', version: tagOf(IMAGES.n8n) });

/**
 * The three n8n processes share app.kubernetes.io/name=n8n (Prometheus labels their series app="n8n") and
 * differ by instance, which their workloads select on.
 */
export const MAIN = n8n('n8n', 'main');
export const WORKER = n8n('n8n-worker', 'worker');
export const WEBHOOK = n8n('n8n-webhook', 'webhook');
export const POSTGRES: App = { name: 'postgres', namespace: NAMESPACE, component: 'database', partOf: 'n8n', version: tagOf(IMAGES.postgres) };
export const VALKEY: App = { name: 'valkey', namespace: NAMESPACE, component: 'queue', partOf: 'n8n', version: tagOf(IMAGES.valkey) };

/** The Secrets (SOPS-encrypted in clusters/<name>/secrets/n8n/) and their keys. */
export const SECRETS = {
  encryptionKey: { name: 'n8n-encryption-key', key: 'key' },
  postgres: { name: 'postgres', superuser: 'postgres-password', n8n: 'n8n-password' },
  valkey: { name: 'valkey', key: 'password' },
} as const;

export const DATABASE = { name: 'n8n', user: 'n8n' } as const;

export const serviceHost = (service: string) => `${service}.${NAMESPACE}.svc`;

/** How other layers (dr's backups and restores) reach the database: its Service and its pods' labels. */
export const POSTGRES_ENDPOINT = { host: serviceHost('postgres'), port: PORTS.postgres, pods: { 'app.kubernetes.io/name': 'postgres' } } as const;

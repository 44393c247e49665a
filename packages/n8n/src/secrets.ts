import { defineSecrets } from '@groundwork/secrets-sops';
import { NAMESPACE, SECRETS } from './names.ts';

const on = (cluster: { features: { n8n: { enabled: boolean } } }) => cluster.features.n8n.enabled;

/** Secrets the n8n layer needs; secrets-sops finds this file by path and keeps them SOPS-encrypted. */
export default defineSecrets('n8n', [
  {
    namespace: NAMESPACE,
    name: SECRETS.encryptionKey.name,
    description: 'N8N_ENCRYPTION_KEY, shared by main, workers and webhook processors: it encrypts the credentials stored in PostgreSQL, so back it up with the database.',
    keys: { [SECRETS.encryptionKey.key]: { generate: 'hex', bytes: 32 } },
    when: on,
  },
  {
    namespace: NAMESPACE,
    name: SECRETS.postgres.name,
    description: 'PostgreSQL passwords: the superuser (first start and administration only) and the n8n role.',
    keys: { [SECRETS.postgres.superuser]: { generate: 'password', length: 32 }, [SECRETS.postgres.n8n]: { generate: 'password', length: 32 } },
    when: on,
  },
  {
    namespace: NAMESPACE,
    name: SECRETS.valkey.name,
    description: 'Password of the Valkey queue.',
    keys: { [SECRETS.valkey.key]: { generate: 'password', length: 32 } },
    when: on,
  },
]);

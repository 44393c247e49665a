import { defineSecrets } from '@groundwork/secrets-sops';
import { RECEIVER_SECRET, receiverSecretKeys } from './config/alertmanager-config.ts';

/** Secrets the observability layer needs; secrets-sops finds this file by path and keeps them SOPS-encrypted. */
export default defineSecrets('observability', [
  {
    namespace: 'observability',
    name: 'grafana-admin',
    description: 'Password of Grafana\'s admin user.',
    keys: { password: { generate: 'password', length: 24 } },
    when: (cluster) => cluster.features.observability.enabled,
  },
  {
    namespace: 'observability',
    name: RECEIVER_SECRET,
    description: 'Credentials of the Alertmanager receivers in the cluster file.',
    keys: (cluster) => Object.fromEntries(Object.entries(receiverSecretKeys(cluster)).map(([key, what]) => [key, { provided: what }])),
    when: (cluster) => cluster.features.observability.enabled,
  },
]);

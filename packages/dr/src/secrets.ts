import { backupPlan, type Cluster } from '@groundwork/cluster';
import { appDatabaseEndpoint } from '@groundwork/apps';
import { defineSecrets, type SecretDeclaration } from '@groundwork/secrets-sops';
import { NAMESPACE as N8N_NAMESPACE, SECRETS as N8N_SECRETS } from '@groundwork/n8n/names';
import { SECRETS } from './names.ts';

const namespace = (cluster: Cluster) => cluster.features.dr.namespace;

/** Secrets the dr layer needs; secrets-sops finds this file by path and keeps them SOPS-encrypted. */
export default defineSecrets('dr', [
  {
    namespace,
    name: SECRETS.s3.name,
    description: 'Access key of the S3-compatible bucket backups go to (features.dr.s3): it needs to put, list, get and delete objects under the prefix.',
    keys: {
      [SECRETS.s3.accessKeyId]: { provided: 'the access key ID of the bucket\'s key (B2: keyID, R2: Access Key ID, MinIO: access key)' },
      [SECRETS.s3.secretAccessKey]: { provided: 'the secret of that access key' },
    },
    when: (cluster) => cluster.features.dr.enabled && cluster.features.dr.s3 !== undefined,
  },
  {
    namespace,
    name: SECRETS.database.name,
    description: 'What the backup, export and restore jobs need of n8n: the n8n role\'s password and the encryption key (copies of the n8n Secrets).',
    keys: {
      [SECRETS.database.password]: { copyOf: { namespace: N8N_NAMESPACE, name: N8N_SECRETS.postgres.name, key: N8N_SECRETS.postgres.n8n } },
      [SECRETS.database.encryptionKey]: { copyOf: { namespace: N8N_NAMESPACE, name: N8N_SECRETS.encryptionKey.name, key: N8N_SECRETS.encryptionKey.key } },
    },
    when: (cluster) => cluster.features.dr.enabled && cluster.features.n8n.enabled,
  },
], (cluster) => {
  const plans = backupPlan(cluster);
  return (cluster.apps ?? []).flatMap((app): SecretDeclaration[] => {
    const out: SecretDeclaration[] = [];
    // The dump job of an app database reads a copy of the app role's password (the apps layer declares the original).
    if (plans.some((p) => p.app === app && !p.volume)) {
      const { secret } = appDatabaseEndpoint(app);
      out.push({
        namespace,
        name: SECRETS.appDatabase(app.name),
        description: `${app.name}'s database password, for its dump job (a copy of ${app.namespace}/${secret.name})`,
        keys: { password: { copyOf: { namespace: app.namespace, name: secret.name, key: secret.key } } },
      });
    }
    // An app's volumes are archived from its namespace: the bucket key goes there too.
    if (plans.some((p) => p.app === app && p.volume)) {
      out.push({
        namespace: app.namespace,
        name: SECRETS.s3.name,
        description: `the backup bucket's key, for the archives of ${app.name}'s volumes (a copy of dr/${SECRETS.s3.name})`,
        keys: Object.fromEntries([SECRETS.s3.accessKeyId, SECRETS.s3.secretAccessKey].map((key) => [key, { copyOf: { namespace: namespace(cluster), name: SECRETS.s3.name, key } }])),
      });
    }
    return out;
  });
});

import type { AppSpec, Cluster } from '@groundwork/cluster';
import { defineSecrets, type SecretDeclaration } from '@groundwork/secrets-sops';
import { SECRETS } from './names.ts';

/** Each app's declared values, and a password for its database: worked out per cluster from its apps/ folder. */
function appSecrets(spec: AppSpec): SecretDeclaration[] {
  const out: SecretDeclaration[] = [];
  if (Object.keys(spec.secrets).length) {
    out.push({ namespace: spec.namespace, name: SECRETS.app(spec), description: `${spec.name}'s own values (${spec.file})`, keys: spec.secrets });
  }
  if (spec.database) {
    const { name, key } = SECRETS.database(spec);
    out.push({ namespace: spec.namespace, name, description: `password of ${spec.name}'s PostgreSQL role (owner of its database)`, keys: { [key]: { generate: 'password', length: 32 } } });
  }
  return out;
}

export default defineSecrets('apps', [], (cluster: Cluster) => (cluster.apps ?? []).flatMap(appSecrets));

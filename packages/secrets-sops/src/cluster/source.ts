import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedCluster } from '@groundwork/cluster';
import type { EncryptedSecret, KubeObject, SecretSource } from '@groundwork/kube';
import { SopsError, emitPlaintext, openEncrypted, storeFor } from '../sops/index.ts';
import { applicableSecrets, discoverDeclarations } from './declarations.ts';
import { clusterSecretFiles, manifestPath, missingSecrets } from './manifests.ts';
import { clusterKeyServices } from './identity.ts';

/** Decrypts a Secret manifest in memory (MAC checked) into a plain object; nothing touches the disk. */
export async function decryptManifest(bytes: Uint8Array, cluster: LoadedCluster, label: string): Promise<KubeObject> {
  const file = await openEncrypted(bytes, storeFor('yaml'), await clusterKeyServices(cluster));
  const object = JSON.parse(Buffer.from(emitPlaintext(file, storeFor('json'))).toString('utf8')) as KubeObject;
  if (object?.kind !== 'Secret' || typeof object.metadata?.name !== 'string') throw new Error(`${label}: not a Kubernetes Secret manifest`);
  return object;
}

/**
 * The Secrets each Kubernetes layer declares (packages/<layer>/src/secrets.ts), as the engine needs
 * them: encrypted bytes for the rendered folder, decrypted objects only in memory at apply time.
 */
export const sopsSecretSource: SecretSource = {
  async declared(root, cluster, layer) {
    const declared = applicableSecrets(await discoverDeclarations(root), cluster.config).filter((s) => s.layer === layer);
    const missing = missingSecrets(root, cluster, declared);
    const secrets: EncryptedSecret[] = [];
    for (const secret of declared) {
      const path = join(root, manifestPath(cluster.name, secret.namespace, secret.name));
      if (existsSync(path)) secrets.push({ namespace: secret.namespace, name: secret.name, data: new Uint8Array(readFileSync(path)) });
    }
    return { secrets, problems: [], missing };
  },
  decrypt(_root, cluster, secret) {
    return decryptManifest(secret.data, cluster, `${secret.namespace}/${secret.name}`);
  },
  async canDecrypt(root, cluster) {
    const [first] = clusterSecretFiles(root, cluster.name).filter((f) => f.includes('/secrets/'));
    if (!first) return false;
    try {
      await openEncrypted(new Uint8Array(readFileSync(join(root, first))), storeFor('yaml'), await clusterKeyServices(cluster));
      return true;
    } catch (error) {
      if (error instanceof SopsError && error.code === 128) return false;
      throw error;
    }
  },
};

/** @groundwork/secrets-sops: what other layers use. The SOPS library itself is `@groundwork/secrets-sops/sops`. */
export { defineSecrets, applicableSecrets, discoverDeclarations, generateValue } from './cluster/declarations.ts';
export type { SecretDeclaration, SecretValueSpec, LayerSecrets, ApplicableSecret } from './cluster/declarations.ts';
export { manifestPath, missingSecrets, clusterSecretFiles, inspectManifest } from './cluster/manifests.ts';
export { clusterKeyServices, assertNoExampleKey } from './cluster/identity.ts';
export { readEncryptedFile, writeEncryptedFile, ruleForPath } from './cluster/files.ts';
export { syncSopsConfig } from './cluster/sops-rules.ts';
export { initClusterKey, rekeyCluster } from './cluster/keys.ts';
export { LAYER as SECRETS_LAYER } from './cluster/layer.ts';
export { sopsSecretSource, decryptManifest } from './cluster/source.ts';
export * as sops from './sops/index.ts';

#!/usr/bin/env -S npx tsx
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLayerScript } from '@groundwork/cluster';
import { formatForPath, openEncrypted, storeFor } from './sops/index.ts';
import { LAYER } from './cluster/layer.ts';
import { clusterSecretFiles } from './cluster/manifests.ts';
import { assertNoExampleKey, clusterKeyServices } from './cluster/identity.ts';

/**
 * apply for this layer is the gate in front of every other layer's apply: the cluster must not be keyed
 * with a public example key, and every secret must decrypt (MAC checked) with the identities at hand.
 * Secrets are only ever decrypted in memory; the Kubernetes apply engine pushes them to the cluster.
 */
export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'apply',
      description: 'refuse clusters keyed with an example key, and decrypt every secret in memory with its MAC checked.',
      run: async ({ root, cluster }) => {
        await assertNoExampleKey(root, cluster);
        const services = await clusterKeyServices(cluster);
        const files = clusterSecretFiles(root, cluster.name);
        for (const path of files) {
          await openEncrypted(new Uint8Array(readFileSync(join(root, path))), storeFor(formatForPath(path)), services);
        }
        return { problems: [], summary: `${files.length} secret file${files.length === 1 ? '' : 's'} decrypted in memory with valid MACs` };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

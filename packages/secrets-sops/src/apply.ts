#!/usr/bin/env -S npx node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLayerScript } from '@groundwork/cluster';
import { APPLY_DETAILS, APPLY_OPTIONS, applyFlags } from '@groundwork/kube';
import { formatForPath, openEncrypted, storeFor } from './sops/index.ts';
import { LAYER } from './cluster/layer.ts';
import { clusterSecretFiles } from './cluster/manifests.ts';
import { assertNoExampleKey, clusterKeyServices } from './cluster/identity.ts';
import { pushUndeclaredSecrets } from './cluster/push.ts';
import { exampleValuesIn } from './cluster/provenance.ts';

/**
 * apply for this layer runs first and is the gate in front of every other layer's apply: the cluster
 * must not be keyed with a public example key, and every secret must decrypt (MAC checked) with the
 * identities at hand. Then the Secrets no layer declares are applied (decrypted in memory only).
 */
export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'apply',
      description: 'refuse clusters keyed with an example key, check every secret decrypts (in memory, MAC checked), and apply the Secrets no layer declares.',
      options: APPLY_OPTIONS,
      details: APPLY_DETAILS,
      run: async ({ root, cluster, options }) => {
        await assertNoExampleKey(root, cluster);
        const services = await clusterKeyServices(cluster);
        const files = clusterSecretFiles(root, cluster.name);
        for (const path of files) {
          await openEncrypted(new Uint8Array(readFileSync(join(root, path))), storeFor(formatForPath(path)), services);
        }
        const exposed = await exampleValuesIn(root, cluster, services);
        if (exposed.length) return { problems: exposed.map((p) => `${p}: refusing to apply a public value (gw-secrets rekey regenerates generated values; set the others anew)`) };
        const checked = `${files.length} secret file${files.length === 1 ? '' : 's'} decrypted in memory with valid MACs`;
        const pushed = await pushUndeclaredSecrets(root, cluster, applyFlags(options));
        return { ...pushed, summary: pushed.summary ? `${checked}; ${pushed.summary}` : checked };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

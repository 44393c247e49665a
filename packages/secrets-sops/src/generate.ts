#!/usr/bin/env -S npx node
import { runLayerScript } from '@groundwork/cluster';
import { LAYER, generateSecrets } from './cluster/layer.ts';

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'generate',
      description: 'check that .sops.yaml covers every secret path with the cluster\'s recipients then copy the encrypted Secret manifests into clusters/<name>/rendered/secrets-sops/.',
      run: async ({ root, cluster }) => {
        const { problems, files, missing } = await generateSecrets(root, cluster);
        const notes = missing.map((m) => `not provided yet (the apply of the layer that needs it refuses until it is): ${m}`);
        return { problems, notes, summary: `rendered ${files} file${files === 1 ? '' : 's'} to clusters/${cluster.name}/rendered/${LAYER}/${missing.length ? `; ${missing.length} value(s) still to provide` : ''}` };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

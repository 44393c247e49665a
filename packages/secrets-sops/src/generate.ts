#!/usr/bin/env -S npx tsx
import { runLayerScript } from '@groundwork/cluster';
import { LAYER, generateSecrets } from './cluster/layer.ts';

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'generate',
      description: 'check that .sops.yaml covers every secret path with the cluster\'s recipients and that every declared secret exists, then copy the encrypted Secret manifests into clusters/<name>/rendered/secrets-sops/.',
      run: async ({ root, cluster }) => {
        const { problems, files } = await generateSecrets(root, cluster);
        return { problems, summary: `rendered ${files} file${files === 1 ? '' : 's'} to clusters/${cluster.name}/rendered/${LAYER}/` };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

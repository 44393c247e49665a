#!/usr/bin/env -S npx node
import { runLayerScript } from '@groundwork/cluster';
import { LAYER, verifySecrets } from './cluster/layer.ts';
import { scanTrackedFiles } from './cluster/scan.ts';

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'verify',
      description: 'prove every secret file is encrypted to the recipients .sops.yaml names, its MAC valid when an identity is at hand, the rendering current, and no plaintext secret or private key tracked by git.',
      run: async ({ root, cluster }) => ({ ...(await verifySecrets(root, cluster)), summary: 'secrets encrypted, recipients match .sops.yaml, rendering current' }),
      repository: async (root) => {
        const scan = scanTrackedFiles(root);
        if (!scan.scanned) return { problems: [], notes: ['not a git work tree: the tracked-file scan was skipped'] };
        return { problems: scan.problems, summary: `${scan.files} tracked files scanned: no plaintext secret or private key` };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

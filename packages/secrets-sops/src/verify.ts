#!/usr/bin/env -S npx tsx
import { runLayerScript } from '@groundwork/cluster';
import { LAYER, verifySecrets } from './cluster/layer.ts';
import { scanTrackedFiles } from './cluster/scan.ts';

let scanned = false;

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'verify',
      description: 'prove every secret file is encrypted to the recipients .sops.yaml names, its MAC valid when an identity is at hand, the rendering current, and no plaintext secret or private key tracked by git.',
      run: async ({ root, cluster }) => {
        const report = await verifySecrets(root, cluster);
        if (!scanned) {
          // The repository scan is not per cluster: it runs once, with the first cluster.
          scanned = true;
          const scan = scanTrackedFiles(root);
          if (!scan.scanned) report.notes.push('not a git work tree: the tracked-file scan was skipped');
          else {
            report.problems.push(...scan.problems);
            report.notes.push(`${scan.files} tracked files scanned: ${scan.problems.length ? `${scan.problems.length} problem(s)` : 'no plaintext secret or private key'}`);
          }
        }
        return { ...report, summary: 'secrets encrypted, recipients match .sops.yaml, rendering current' };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

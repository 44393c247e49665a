#!/usr/bin/env -S npx node
import { runLayerScript } from '@groundwork/cluster';
import { LAYER, generateTalos } from './layer.ts';

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'generate',
      description: 'render every node\'s Talos machine config (with the user\'s patches) and the talosconfig from the cluster file and the SOPS-encrypted secrets bundle, validated against the Talos schema and rules.',
      run: ({ root, cluster }) => generateTalos(root, cluster),
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

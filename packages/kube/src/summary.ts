#!/usr/bin/env -S npx node
import { runLayerScript } from '@groundwork/cluster';
import { writeClusterFootprint } from './layer/summary.ts';

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: 'kube',
      action: 'summary',
      description: "write clusters/<name>/rendered/footprint.md: what every rendered Kubernetes layer asks of the nodes together (each layer's own footprint ignores the others)",
      run: async ({ root, cluster }) => writeClusterFootprint(root, cluster),
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

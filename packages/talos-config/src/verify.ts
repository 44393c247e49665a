#!/usr/bin/env -S npx node
import { runLayerScript } from '@groundwork/cluster';
import { LAYER, verifyTalos } from './layer.ts';

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'verify',
      description: 'check the PKI, that the rendered configs match the bundle (schema and Talos rules included) and are not tracked by git; with GROUNDWORK_LIVE=1 also the running cluster (versions, etcd members, health, Kubernetes nodes).',
      run: ({ root, cluster }) => verifyTalos(root, cluster),
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

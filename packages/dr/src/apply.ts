#!/usr/bin/env -S npx node
/**
 * dr apply: the layer's objects, server-side applied like every Kubernetes layer's. With --etcd-snapshot=DIR
 * (or GROUNDWORK_ETCD_SNAPSHOT=DIR through Nx) it first takes an etcd snapshot through the Talos API into
 * DIR, encrypted: the state of the cluster just before the change.
 */
import { resolve } from 'node:path';
import { runLayerScript } from '@groundwork/cluster';
import { createLogger } from '@groundwork/kit';
import { APPLY_DETAILS, APPLY_OPTIONS, applyFlags, applyKubeLayer } from '@groundwork/kube';
import { sopsSecretSource } from '@groundwork/secrets-sops';
import { drLayer } from './platform.ts';
import { takeEtcdSnapshot } from './workstation/etcd-snapshot.ts';

const log = createLogger('dr:apply');

export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: drLayer.name,
      action: 'apply',
      description: 'server-side apply of the backup jobs and what they need; optionally an etcd snapshot first, into a local folder, encrypted.',
      options: { ...APPLY_OPTIONS, 'etcd-snapshot': { type: 'string', valueName: 'DIR', description: 'Take an etcd snapshot through the Talos API into DIR first (encrypted to the cluster\'s age recipients). Env: GROUNDWORK_ETCD_SNAPSHOT.' } },
      details: APPLY_DETAILS,
      run: async ({ root, cluster, options }) => {
        const folder = (options['etcd-snapshot'] as string | undefined) ?? process.env.GROUNDWORK_ETCD_SNAPSHOT;
        const notes: string[] = [];
        if (folder) {
          const taken = await log.progress(`etcd snapshot of ${cluster.name} before applying`, () => takeEtcdSnapshot(root, cluster, resolve(folder), { log }));
          notes.push(`etcd snapshot from ${taken.node}: ${taken.file}`);
        }
        const outcome = await applyKubeLayer(root, cluster, drLayer, sopsSecretSource, applyFlags(options));
        return { ...outcome, notes: [...notes, ...(outcome.notes ?? [])] };
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env -S npx node
import { runLayerScript } from '@groundwork/cluster';
import { flagOn } from '@groundwork/kit';
import { assertNoExampleKey } from '@groundwork/secrets-sops';
import { LAYER, applyMode, applyTalos } from './layer.ts';

/**
 * Nx runs this with --cluster only; the apply mode and a dry run come from the environment
 * (GROUNDWORK_TALOS_APPLY_MODE=auto|no-reboot|reboot|staged|try, GROUNDWORK_DRY_RUN=1, and
 * GROUNDWORK_MAINTENANCE_ADDRESSES=node=ip,… for fresh machines at DHCP addresses) or from gw-talos apply.
 */
export const main = (argv: string[]) =>
  runLayerScript(
    {
      layer: LAYER,
      action: 'apply',
      description: 'push the rendered configs through the Talos API (maintenance mode for new nodes), bootstrap etcd once, wait for Kubernetes and fetch the kubeconfig.',
      run: async ({ root, cluster }) => {
        await assertNoExampleKey(root, cluster);
        return applyTalos(root, cluster, { mode: applyMode(process.env.GROUNDWORK_TALOS_APPLY_MODE), dryRun: flagOn(undefined, process.env.GROUNDWORK_DRY_RUN), env: process.env });
      },
    },
    argv,
  );

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env -S npx node
import { kubeLayerMain } from '@groundwork/kube';
import { sopsSecretSource } from '@groundwork/secrets-sops';
import { n8nLayer } from './platform.ts';

export const main = kubeLayerMain('apply', n8nLayer, sopsSecretSource);

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env -S npx node
import { kubeLayerMain } from '@groundwork/kube';
import { sopsSecretSource } from '@groundwork/secrets-sops';
import { drLayer } from './platform.ts';

export const main = kubeLayerMain('generate', drLayer, sopsSecretSource);

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

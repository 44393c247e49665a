#!/usr/bin/env -S npx node
import { kubeLayerMain } from '@groundwork/kube';
import { sopsSecretSource } from '@groundwork/secrets-sops';
import { appsLayer } from './platform.ts';

export const main = kubeLayerMain('generate', appsLayer, sopsSecretSource);

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

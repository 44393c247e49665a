import type { LoadedCluster } from '@groundwork/cluster';
import type { Component, KubeLayer } from '@groundwork/kube';
import { cilium } from './components/cilium.ts';
import { cloudflared } from './components/cloudflared.ts';
import { localPath } from './components/local-path.ts';
import { metrics } from './components/metrics-server.ts';
import { traefik } from './components/traefik.ts';
import { ingressCheck, storageCheck } from './live-checks.ts';

export const LAYER = 'platform-core';

/** What platform-core renders for a cluster, feature by feature (Cilium first: every other pod waits for it). */
export function components(cluster: LoadedCluster): Component[] {
  const { features } = cluster.config;
  const out: Component[] = [];
  if (features.cilium.enabled) out.push(cilium(cluster));
  out.push(metrics(cluster));
  if (features.localStorage.enabled) out.push(localPath(cluster));
  if (features.ingress.enabled) out.push(traefik(cluster));
  if (features.cloudflareTunnel.enabled) out.push(cloudflared(cluster));
  return out;
}

export const platformCore: KubeLayer = {
  name: LAYER,
  components,
  liveChecks: [storageCheck, ingressCheck],
};

import { appHost, type AppSpec, type LoadedCluster } from '@groundwork/cluster';
import { describe, type Component, type Finding, type KubeLayer } from '@groundwork/kube';
import { appObjects } from './components/app.ts';
import { databaseObjects } from './components/database.ts';
import { manifestObjects } from './components/manifests.ts';
import { LAYER } from './names.ts';

function summary(cluster: LoadedCluster, spec: AppSpec): string {
  const host = appHost(spec, cluster.config.domain);
  const parts = [`${spec.image}`, `${spec.replicas} replica${spec.replicas === 1 ? '' : 's'}`];
  if (host) parts.push(`https://${host}/`);
  if (spec.database) parts.push(`PostgreSQL ${spec.database.size}`);
  const volumes = Object.keys(spec.volumes);
  if (volumes.length) parts.push(`volume${volumes.length === 1 ? '' : 's'} ${volumes.join(', ')}`);
  return `${spec.name} (${spec.file}): ${parts.join(', ')}`;
}

/** One component per app of clusters/<name>/apps/, then the plain manifests, applied after the apps they may extend. */
export function components(cluster: LoadedCluster): Component[] {
  const out: Component[] = (cluster.config.apps ?? []).map((spec) => ({
    name: spec.name,
    description: summary(cluster, spec),
    objects: [...appObjects(cluster, spec), ...(spec.database ? databaseObjects(cluster, spec) : [])],
  }));
  const manifests = manifestObjects(cluster);
  if (manifests.objects.length) {
    out.push({ name: 'manifests', description: `plain manifests: ${manifests.files.join(', ')}`, wave: 2, objects: manifests.objects });
  }
  return out;
}

/**
 * With features.manifests.policy: warn, a policy finding about an object of the plain manifests is shown and
 * does not stop verify; the apps' own objects always meet the policy.
 */
function policyWarns(cluster: LoadedCluster): (finding: Finding) => boolean {
  if (cluster.config.features.manifests.policy !== 'warn') return () => false;
  const ids = new Set(manifestObjects(cluster).objects.map((o) => describe(o)));
  return (finding) => ids.has(finding.object);
}

export const appsLayer: KubeLayer = { name: LAYER, components, policyWarns };

import type { KubeApi } from '@groundwork/kube';

/**
 * Before a Kubernetes upgrade: objects the cluster stores that the target version would no longer serve. The
 * API server announces a deprecated API's removal in a `Warning` header on every request to it ("… is
 * deprecated in v1.X+, unavailable in v1.Y+"), so every served resource is listed once (limit=1), which tells
 * both whether it holds objects and when its version goes. A resource is lost only when every version that
 * serves it goes by the target: objects of a resource still served at another version (the default
 * ServiceCIDR at networking.k8s.io/v1beta1 and v1) survive, and only manifests naming the old version must
 * move, which is reported as a note. Alpha APIs may carry no warning, so the removals talosctl upgrade-k8s
 * checks (siderolabs/go-kubernetes kubernetes/upgrade, v0.2.41) count as removals at their target too.
 */

/** Removed resources by upgrade path, as `resource.version.group` (from go-kubernetes' upgrade checks). */
export const KNOWN_REMOVALS: Record<string, string[]> = {
  '1.35->1.36': [],
  '1.36->1.37': ['workloads.v1alpha2.scheduling.k8s.io', 'podgroups.v1alpha2.scheduling.k8s.io'],
};

export interface RemovedApiUse {
  /** `group resource` (`core` for the core group). */
  resource: string;
  /** The versions serving it now, all gone by the target. */
  versions: string[];
  /** At least this many objects (one page of one was asked for). */
  objects: number;
  /** Where the removal is known from: the API server's warning, or talosctl's list. */
  source: string;
}

const minorOf = (version: string) => Number(version.replace(/^v/, '').split('.')[1]);

interface Served {
  group: string;
  groupVersion: string;
  resource: string;
  objects: number;
  /** The minor release that no longer serves this version, and what said so. */
  removal?: { minor: number; source: string };
}

async function getJson<T>(kube: KubeApi, path: string): Promise<T | undefined> {
  const response = await kube.request('GET', path);
  return response.status === 200 ? (JSON.parse(response.body) as T) : undefined;
}

/** Every listable resource the server serves, with its object count and announced removal. */
async function servedResources(kube: KubeApi): Promise<Served[]> {
  const groups = (await getJson<{ groups: Array<{ name: string; versions: Array<{ groupVersion: string }> }> }>(kube, '/apis'))?.groups ?? [];
  const versions = [{ group: '', groupVersion: 'v1', base: '/api/v1' }, ...groups.flatMap((g) => g.versions.map((v) => ({ group: g.name, groupVersion: v.groupVersion, base: `/apis/${v.groupVersion}` })))];
  const served: Served[] = [];
  for (const { group, groupVersion, base } of versions) {
    const list = await getJson<{ resources: Array<{ name: string; verbs: string[] }> }>(kube, base);
    for (const resource of list?.resources ?? []) {
      if (resource.name.includes('/') || !resource.verbs.includes('list')) continue;
      const response = await kube.request('GET', `${base}/${resource.name}?limit=1`);
      if (response.status !== 200) continue;
      const page = JSON.parse(response.body) as { items?: unknown[]; metadata?: { remainingItemCount?: number } };
      const warning = response.warnings.find((w) => /unavailable in v1\.\d+\+/.test(w));
      const minor = warning ? Number(/unavailable in v1\.(\d+)\+/.exec(warning)![1]) : undefined;
      served.push({ group, groupVersion, resource: resource.name, objects: (page.items?.length ?? 0) + (page.metadata?.remainingItemCount ?? 0), ...(minor ? { removal: { minor, source: `the API server: ${warning!.replace(/^299 - /, '')}` } } : {}) });
    }
  }
  return served;
}

export async function removedApiUses(kube: KubeApi, from: string, to: string): Promise<{ blockers: RemovedApiUse[]; notes: string[] }> {
  const target = minorOf(to);
  const served = await servedResources(kube);
  for (const entry of KNOWN_REMOVALS[`1.${minorOf(from)}->1.${target}`] ?? []) {
    const [resource, version, ...group] = entry.split('.');
    const match = served.find((s) => s.groupVersion === `${group.join('.')}/${version}` && s.resource === resource);
    if (match && !match.removal) match.removal = { minor: target, source: `talosctl upgrade-k8s: removed in 1.${target}` };
  }
  const byResource = new Map<string, Served[]>();
  for (const s of served) byResource.set(`${s.group || 'core'} ${s.resource}`, [...(byResource.get(`${s.group || 'core'} ${s.resource}`) ?? []), s]);
  const blockers: RemovedApiUse[] = [];
  const notes: string[] = [];
  for (const [name, versions] of byResource) {
    const going = versions.filter((v) => v.removal && v.removal.minor <= target);
    const objects = Math.max(...versions.map((v) => v.objects));
    if (!going.length || objects === 0) continue;
    const staying = versions.filter((v) => !going.includes(v));
    if (staying.length) {
      notes.push(`${name}: ${going.map((v) => v.groupVersion).join(', ')} is gone in 1.${target}; its ${objects}+ object(s) stay served at ${staying.map((v) => v.groupVersion).join(', ')} (manifests naming the old version must move)`);
    } else {
      blockers.push({ resource: name, versions: going.map((v) => v.groupVersion), objects, source: [...new Set(going.map((v) => v.removal!.source))].join('; ') });
    }
  }
  return { blockers, notes };
}

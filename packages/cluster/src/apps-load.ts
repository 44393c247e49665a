import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readYamlText } from './yaml-text.ts';
import { AppSchema, appHost, appProblems, type AppSpec } from './apps.ts';
import { grafanaHost, n8nHost } from './derive.ts';
import { findingsFromZod } from './issues.ts';
import { CLAIMED_NAMESPACES } from './limits.ts';
import type { Cluster } from './schema.ts';

const FILE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.yaml$/;

/**
 * Reads clusters/<name>/apps/*.yaml (sorted, so the rendering is stable). Every message starts with the file
 * and the field; all of them are returned at once. `label` is the folder as the user knows it.
 */
export function loadApps(dir: string, label: string, cluster: Cluster): { apps: AppSpec[]; errors: string[] } {
  const folder = join(dir, 'apps');
  if (!existsSync(folder)) return { apps: [], errors: [] };
  const apps: AppSpec[] = [];
  const errors: string[] = [];
  const namespaces = new Map<string, string>();
  // Two Ingresses for one host would split its paths between them: every host has one owner.
  const hosts = new Map<string, string>();
  if (cluster.features.n8n.enabled) hosts.set(n8nHost(cluster), 'n8n');
  if (cluster.features.observability.enabled) hosts.set(grafanaHost(cluster), 'Grafana');
  for (const entry of readdirSync(folder).sort()) {
    if (!entry.endsWith('.yaml') && !entry.endsWith('.yml')) continue;
    const file = `${label}/apps/${entry}`;
    if (!FILE_NAME.test(entry)) {
      errors.push(`${file}: the file name is the app's name: a lowercase DNS label ending in .yaml, such as whoami.yaml`);
      continue;
    }
    const name = entry.slice(0, -'.yaml'.length);
    const read = readYamlText(readFileSync(join(folder, entry), 'utf8'), file);
    if (read.errors.length) {
      errors.push(...read.errors);
      continue;
    }
    const data = read.data;
    const parsed = AppSchema.safeParse(data, { reportInput: true });
    if (!parsed.success) {
      errors.push(...findingsFromZod(parsed.error, AppSchema).map((f) => `${file}: ${f.path}: ${f.message}`));
      continue;
    }
    const problems = appProblems(parsed.data, name).map((f) => `${file}: ${f.path}: ${f.message}`);
    const { dr } = cluster.features;
    for (const [volume, spec] of Object.entries(parsed.data.volumes)) {
      if (dr.enabled && spec.backup && !dr.s3) problems.push(`${file}: volumes.${volume}.backup: dr archives volumes to its S3 bucket only (features.dr.s3; its volume target lives in the dr namespace, out of the app's reach); add a bucket or set backup: false`);
    }
    const namespace = parsed.data.namespace ?? name;
    const field = parsed.data.namespace ? 'namespace' : '(file name)';
    const owner = CLAIMED_NAMESPACES[namespace] ?? (cluster.features.dr.enabled && namespace === cluster.features.dr.namespace ? 'dr' : undefined);
    if (owner) problems.push(`${file}: ${field}: the namespace ${namespace} belongs to ${owner}; give the app a namespace of its own`);
    const other = namespaces.get(namespace);
    if (other) problems.push(`${file}: ${field}: the namespace ${namespace} is also ${other}'s; one app per namespace (each gets its own default-deny)`);
    namespaces.set(namespace, name);
    const host = appHost(parsed.data, cluster.domain);
    if (host && hosts.has(host)) problems.push(`${file}: host: ${host} is already ${hosts.get(host)}'s; give the app a host of its own`);
    if (host) hosts.set(host, name);
    if (problems.length) errors.push(...problems);
    else apps.push({ ...parsed.data, name, namespace, file });
  }
  return { apps, errors };
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { creationRuleFor, goRegExp, keyId, parseConfig, type CreationRule, type SopsConfig } from '../sops/index.ts';

/**
 * The repository's `.sops.yaml` holds two creation rules per cluster, generated from the cluster file so
 * that the sops CLI, Flux and groundwork agree on who can decrypt what:
 *  - Kubernetes Secret manifests under clusters/<name>/secrets/ encrypt only data/stringData, keeping
 *    metadata readable for reviews, kubectl and Flux;
 *  - any other clusters/<name>/**\/*.sops.* file (the Talos secrets bundle) is encrypted whole.
 * The block between the markers is rewritten by `gw-secrets sync-config`; rules outside it are the user's.
 */

export const SOPS_CONFIG_FILE = '.sops.yaml';
const BEGIN = '  # >>> groundwork: generated from clusters/*/cluster.yaml by `gw-secrets sync-config`; do not edit >>>';
const END = '  # <<< groundwork <<<';
export const SECRET_MANIFEST_REGEX = '^(data|stringData)$';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function recipientsYaml(cluster: LoadedCluster): string {
  const lines: string[] = [];
  if (cluster.config.sops.age.length) lines.push('    age:', ...cluster.config.sops.age.map((r) => `      - ${r}`));
  if (cluster.config.sops.pgp.length) lines.push('    pgp:', ...cluster.config.sops.pgp.map((fp) => `      - ${fp}`));
  return lines.join('\n');
}

export function managedRules(clusters: LoadedCluster[]): string {
  const blocks = clusters.map((cluster) => {
    const dir = escapeRegex(`clusters/${cluster.name}/`);
    return [
      `  # ${cluster.name}: Kubernetes Secret manifests keep their metadata readable`,
      `  - path_regex: ^${dir}secrets/.+\\.sops\\.ya?ml$`,
      `    encrypted_regex: ${SECRET_MANIFEST_REGEX}`,
      recipientsYaml(cluster),
      `  # ${cluster.name}: everything else (the Talos secrets bundle, ...) is encrypted whole`,
      `  - path_regex: ^${dir}.+\\.sops\\.(ya?ml|json|env|ini)$`,
      recipientsYaml(cluster),
    ].join('\n');
  });
  return [BEGIN, ...blocks, END].join('\n');
}

/** The new `.sops.yaml` text: the managed block replaced (or inserted first, since the first match wins). */
export function syncedConfigText(existing: string | undefined, clusters: LoadedCluster[]): string {
  const block = managedRules(clusters);
  if (existing === undefined || existing.trim() === '') {
    return `# SOPS creation rules. groundwork keeps the block below in step with the cluster files; add your own rules\n# after it (the first matching rule wins).\ncreation_rules:\n${block}\n`;
  }
  const start = existing.indexOf(BEGIN);
  const end = existing.indexOf(END);
  if (start !== -1 && end > start) return `${existing.slice(0, start)}${block}${existing.slice(end + END.length)}`;
  const match = /^creation_rules:[ \t]*\n/m.exec(existing);
  if (match) return `${existing.slice(0, match.index + match[0].length)}${block}\n${existing.slice(match.index + match[0].length)}`;
  return `${existing.replace(/\n*$/, '\n')}creation_rules:\n${block}\n`;
}

export function syncSopsConfig(root: string, clusters: LoadedCluster[]): { path: string; changed: boolean } {
  const path = join(root, SOPS_CONFIG_FILE);
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const next = syncedConfigText(existing, clusters);
  if (next !== existing) writeFileAtomic(path, next);
  return { path, changed: next !== existing };
}

export function loadRepoSopsConfig(root: string): SopsConfig | undefined {
  const path = join(root, SOPS_CONFIG_FILE);
  return existsSync(path) ? parseConfig(readFileSync(path, 'utf8'), path) : undefined;
}

/** Recipients of a rule as comparable strings (age:<recipient>, pgp:<fingerprint>), sorted, per group. */
export function ruleRecipients(rule: CreationRule): string[] {
  return rule.keyGroups.flat().map(keyId).sort();
}

export function clusterRecipients(cluster: LoadedCluster): string[] {
  return [...cluster.config.sops.age.map((r) => `age:${r}`), ...cluster.config.sops.pgp.map((fp) => `pgp:${fp}`)].sort();
}

/** Paths a rule must cover even before any secret exists, so the first `gw-secrets create` cannot fail. */
function probePaths(cluster: LoadedCluster): Array<{ path: string; manifest: boolean }> {
  return [
    { path: `clusters/${cluster.name}/secrets/example/example.sops.yaml`, manifest: true },
    { path: `clusters/${cluster.name}/talos/secrets.sops.yaml`, manifest: false },
  ];
}

/**
 * Checks that `.sops.yaml` covers every secret path of the cluster (existing files and the standard ones)
 * with exactly the cluster's recipients, and that Secret manifests keep their metadata readable.
 */
export function coverageProblems(root: string, cluster: LoadedCluster, secretFiles: string[], config: SopsConfig | undefined): string[] {
  if (!config) return [`${SOPS_CONFIG_FILE} is missing: run gw-secrets sync-config`];
  const problems: string[] = [];
  const wanted = clusterRecipients(cluster).join(', ');
  const paths = [...probePaths(cluster), ...secretFiles.map((path) => ({ path, manifest: path.startsWith(`clusters/${cluster.name}/secrets/`) }))];
  const seen = new Set<string>();
  for (const { path, manifest } of paths) {
    if (seen.has(path)) continue;
    seen.add(path);
    const rule = creationRuleFor(config, join(root, path));
    if (!rule) {
      problems.push(`${SOPS_CONFIG_FILE}: no creation rule covers ${path} (run gw-secrets sync-config)`);
      continue;
    }
    const actual = ruleRecipients(rule).join(', ');
    if (actual !== wanted) problems.push(`${SOPS_CONFIG_FILE}: the rule for ${path} encrypts to [${actual}] but clusters/${cluster.name}/cluster.yaml sops lists [${wanted}] (run gw-secrets sync-config)`);
    if (manifest) {
      const regex = rule.rules.encryptedRegex ? goRegExp(rule.rules.encryptedRegex) : undefined;
      if (!regex || !regex.test('data') || !regex.test('stringData') || regex.test('metadata')) {
        problems.push(`${SOPS_CONFIG_FILE}: the rule for ${path} must use encrypted_regex ${SECRET_MANIFEST_REGEX} so Secret metadata stays readable`);
      }
    }
  }
  return problems;
}

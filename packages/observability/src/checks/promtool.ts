import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { LoadedCluster } from '@groundwork/cluster';
import type { KubeObject } from '@groundwork/kube';
import { ruleGroups, ruleTests } from '../rules/index.ts';
import { endpointSliceTargets, expectedTargets, nodeTargets, podTargets, type TargetGroup } from './sd.ts';
import { configMapData, inScratch, run, runAsync, summarize } from './tools.ts';

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names: string[] } }>;
  [key: string]: unknown;
}

/**
 * The rendered prometheus.yml as promtool can check it here: Kubernetes discovery swapped for file
 * discovery fed with what the cluster would report, the service-account files for local stand-ins, and
 * the rule files pointed at the rendered copies.
 */
function checkable(config: Record<string, unknown>, dir: string, targets: Record<string, TargetGroup[]>): Record<string, unknown> {
  writeFileSync(join(dir, 'token'), 'token\n');
  writeFileSync(join(dir, 'ca.crt'), 'stand-in\n');
  const rewritten = JSON.parse(JSON.stringify(config).replaceAll('/var/run/secrets/kubernetes.io/serviceaccount/', `${dir}/`)) as Record<string, unknown>;
  rewritten.rule_files = [join(dir, 'rules', '*.yaml')];
  rewritten.scrape_configs = (rewritten.scrape_configs as ScrapeConfig[]).map((job) => {
    const sd = job.kubernetes_sd_configs?.[0];
    if (!sd) return job;
    const { kubernetes_sd_configs: _sd, ...rest } = job;
    const namespaces = sd.namespaces?.names;
    const groups = (targets[sd.role] ?? []).filter((g) => !namespaces || namespaces.includes(g.labels.__meta_kubernetes_namespace ?? ''));
    const file = join(dir, `sd-${job.job_name}.json`);
    writeFileSync(file, JSON.stringify(groups));
    return { ...rest, file_sd_configs: [{ files: [file] }] };
  });
  return rewritten;
}

/** promtool on the rendered Prometheus configuration and rules: syntax, relabelling results, rule unit tests. */
export async function checkPrometheus(cluster: LoadedCluster, objects: KubeObject[], everything: KubeObject[]): Promise<{ problems: string[]; notes: string[] }> {
  const config = parse(configMapData(objects, 'prometheus-config')['prometheus.yml']!) as Record<string, unknown>;
  const rules = configMapData(objects, 'prometheus-rules');
  const targets = { node: nodeTargets(cluster), pod: podTargets(cluster, everything), endpointslice: endpointSliceTargets(cluster, everything) };
  return inScratch(async (dir) => {
    const problems: string[] = [];
    mkdirSync(join(dir, 'rules'));
    for (const [file, text] of Object.entries(rules)) writeFileSync(join(dir, 'rules', file), text);
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, stringify(checkable(config, dir, targets)));

    const checked = run('promtool', ['check', 'config', configFile], dir);
    if (!checked.ok) problems.push(`promtool check config: ${summarize(checked.output)}`);
    const ruleFiles = Object.keys(rules).map((f) => join('rules', f));
    const lint = run('promtool', ['check', 'rules', ...ruleFiles], dir);
    if (!lint.ok || /lint error|duplicate rule/i.test(lint.output)) problems.push(`promtool check rules: ${summarize(lint.output)}`);

    let tests = 0;
    for (const group of ruleGroups(cluster)) {
      const file = join(dir, `${group.file}.test.yaml`);
      writeFileSync(file, stringify(ruleTests(group, join('rules', `${group.file}.yaml`))));
      const result = run('promtool', ['test', 'rules', file], dir);
      tests += group.rules.length;
      if (!result.ok) problems.push(`promtool test rules ${group.file}: ${summarize(result.output)}`);
    }

    const expected = expectedTargets(cluster, everything);
    const jobs = (config.scrape_configs as ScrapeConfig[]).filter((j) => j.kubernetes_sd_configs);
    const discovered = await Promise.all(
      jobs.map(async (job) => {
        // Discovery with nothing to find has nothing to relabel either.
        if (readFileSync(join(dir, `sd-${job.job_name}.json`), 'utf8') === '[]') return { job, found: [] as string[] };
        // promtool always waits out its timeout; a second is plenty for file discovery.
        const sd = await runAsync('promtool', ['check', 'service-discovery', '--timeout=1s', configFile, job.job_name], dir);
        try {
          const targets = JSON.parse(sd.stdout) as Array<{ labels?: Record<string, string> | null }>;
          return { job, found: [...new Set(targets.map((t) => t.labels?.__address__).filter((a): a is string => !!a))].sort() };
        } catch {
          return { job, error: summarize(sd.output) };
        }
      }),
    );
    for (const result of discovered) {
      if ('error' in result) {
        problems.push(`promtool check service-discovery ${result.job.job_name}: ${result.error}`);
        continue;
      }
      const want = expected[result.job.job_name] ?? [];
      if (JSON.stringify(result.found) !== JSON.stringify(want)) problems.push(`job ${result.job.job_name} scrapes [${result.found.join(', ')}], expected [${want.join(', ')}]`);
    }
    const notes = problems.length ? [] : [`promtool: configuration valid, ${Object.keys(rules).length} rule files, ${tests} alerts fire and stay quiet as their tests say, ${jobs.length} discovery jobs find the expected targets`];
    return { problems, notes };
  });
}

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedCluster } from '@groundwork/cluster';
import { allObjects, readRenderedLayer, type KubeObject, type StaticCheck } from '@groundwork/kube';
import { KNOWN_METRICS, metricNames } from '../catalog.ts';
import { ruleGroups } from '../rules/index.ts';
import { checkAlertmanager } from './amtool.ts';
import { dashboardProblems, promqlSyntax } from './dashboards.ts';
import { checkPrometheus } from './promtool.ts';
import { IMAGES } from '../versions.ts';
import { configMapData, hasCommand, missingToolNote, versionNotes } from './tools.ts';

/** Objects of every rendered layer of the cluster: the pods Prometheus would discover come from all of them. */
function clusterObjects(root: string, cluster: LoadedCluster, own: KubeObject[]): KubeObject[] {
  const base = join(root, 'clusters', cluster.name, 'rendered');
  const others = existsSync(base)
    ? readdirSync(base)
        .filter((layer) => layer !== 'observability')
        .flatMap((layer) => {
          const rendered = readRenderedLayer(root, cluster.name, layer);
          return rendered ? allObjects(rendered) : [];
        })
    : [];
  return [...own, ...others];
}

const empty = { problems: [], notes: [] };

export const observabilityStaticChecks: StaticCheck[] = [
  {
    name: 'prometheus',
    async run({ root, cluster, objects }) {
      if (objects.length === 0) return empty;
      if (!hasCommand('promtool')) return { problems: [], notes: [missingToolNote('promtool', 'the Prometheus configuration, rules and rule tests were')] };
      const checked = await checkPrometheus(cluster, objects, clusterObjects(root, cluster, objects));
      return { ...checked, notes: [...checked.notes, ...versionNotes('promtool', IMAGES.prometheus)] };
    },
  },
  {
    name: 'alertmanager',
    async run({ cluster, objects }) {
      if (objects.length === 0) return empty;
      if (!hasCommand('amtool')) return { problems: [], notes: [missingToolNote('amtool', 'the Alertmanager configuration and routes were')] };
      const checked = await checkAlertmanager(cluster, objects);
      return { ...checked, notes: [...checked.notes, ...versionNotes('amtool', IMAGES.alertmanager)] };
    },
  },
  {
    name: 'dashboards',
    async run({ cluster, objects }) {
      if (objects.length === 0) return empty;
      const files = configMapData(objects, 'grafana-dashboards');
      const problems: string[] = [];
      const queries = [];
      for (const [file, text] of Object.entries(files)) {
        const result = dashboardProblems(file, text);
        problems.push(...result.problems);
        queries.push(...result.queries);
      }
      for (const group of ruleGroups(cluster)) {
        for (const rule of group.rules) for (const name of metricNames(rule.expr)) if (!KNOWN_METRICS.has(name)) problems.push(`rule ${rule.alert}: ${name} is not a metric our scrape configuration collects (catalog.ts)`);
      }
      problems.push(...(await promqlSyntax(queries)));
      const notes = problems.length ? [] : [`${Object.keys(files).length} dashboards, ${queries.length} queries: provisionable JSON, every metric collected${hasCommand('promtool') ? ', PromQL parsed by promtool' : ''}`];
      return { problems, notes };
    },
  },
];

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KNOWN_METRICS, metricNames } from '../catalog.ts';
import { CONTAINER_STREAM_FIELDS, TALOS_STREAM_FIELDS } from '../config/log-shipper-config.ts';
import { DATASOURCES } from '../dashboards/index.ts';
import { hasCommand, inScratch, run, summarize } from './tools.ts';

/** The stream fields the log shipper gives log lines (log-shipper-config.ts); a LogsQL stream filter may only select on these. */
export const LOG_STREAM_FIELDS = new Set<string>([...CONTAINER_STREAM_FIELDS, ...TALOS_STREAM_FIELDS]);
/** Grafana's own variables, which are not defined by a dashboard. */
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__range', '__interval_ms', '__range_s']);

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: { query: string } }> };
}

export interface QueryRef {
  where: string;
  expr: string;
  datasource: string;
}

/** What Grafana's file provisioning needs of a dashboard, and that every query stays within what we collect. */
export function dashboardProblems(file: string, text: string): { problems: string[]; queries: QueryRef[] } {
  const problems: string[] = [];
  const queries: QueryRef[] = [];
  let board: Dashboard;
  try {
    board = JSON.parse(text) as Dashboard;
  } catch (error) {
    return { problems: [`${file}: not JSON (${(error as Error).message})`], queries };
  }
  if (typeof board.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(board.uid)) problems.push(`${file}: uid must be 1-40 letters, digits, - or _`);
  if (typeof board.title !== 'string' || !board.title) problems.push(`${file}: title is missing`);
  if (typeof board.schemaVersion !== 'number') problems.push(`${file}: schemaVersion is missing`);
  const variables = new Set((board.templating?.list ?? []).map((v) => v.name));
  const ids = new Set<number>();
  for (const panel of board.panels ?? []) {
    const where = `${file}: panel ${panel.id} "${panel.title}"`;
    if (ids.has(panel.id)) problems.push(`${where}: id used twice`);
    ids.add(panel.id);
    const { x, w } = panel.gridPos ?? {};
    if (typeof x !== 'number' || typeof w !== 'number' || x < 0 || w < 1 || x + w > 24) problems.push(`${where}: gridPos must fit 24 columns`);
    if (panel.type === 'row') continue;
    const uid = panel.datasource?.uid ?? '';
    if (!Object.values(DATASOURCES).includes(uid as never)) problems.push(`${where}: datasource ${uid} is not provisioned`);
    const refIds = new Set<string>();
    for (const target of panel.targets ?? []) {
      if (refIds.has(target.refId)) problems.push(`${where}: refId ${target.refId} used twice`);
      refIds.add(target.refId);
      for (const m of target.expr.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        if (!variables.has(m[1]!) && !BUILTIN_VARIABLES.has(m[1]!)) problems.push(`${where}: uses $${m[1]}, which the dashboard does not define`);
      }
      queries.push({ where: `${where} ${target.refId}`, expr: target.expr, datasource: uid });
      if (uid === DATASOURCES.prometheus) {
        for (const name of metricNames(target.expr)) if (!KNOWN_METRICS.has(name)) problems.push(`${where}: ${name} is not a metric our scrape configuration collects (catalog.ts)`);
      } else if (uid === DATASOURCES.logs) {
        // LogsQL's syntax is checked by the real VictoriaLogs in the log test; here, that a stream filter names
        // only fields the lines have (a misspelt one matches nothing, silently).
        for (const filter of target.expr.matchAll(/\{([^}]*)\}/g)) {
          for (const m of filter[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!=|!~|=)/g)) {
            if (!LOG_STREAM_FIELDS.has(m[1]!)) problems.push(`${where}: log lines carry no "${m[1]}" stream field (the log shipper sets ${[...LOG_STREAM_FIELDS].join(', ')})`);
          }
        }
      }
    }
  }
  return { problems, queries };
}

/** PromQL syntax, checked by promtool: every query becomes a recording rule, Grafana variables filled in. */
export function promqlSyntax(queries: QueryRef[]): Promise<string[]> {
  const prom = queries.filter((q) => q.datasource === DATASOURCES.prometheus);
  if (prom.length === 0 || !hasCommand('promtool')) return Promise.resolve([]);
  return inScratch((dir) => {
    const concrete = (expr: string) => expr.replace(/\$\{?__rate_interval\}?|\$\{?__interval\}?|\$\{?__range\}?/g, '5m').replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.+');
    const rules = { groups: [{ name: 'dashboards', rules: prom.map((q, i) => ({ record: `dashboard:query:${i}`, expr: concrete(q.expr) })) }] };
    writeFileSync(join(dir, 'queries.yaml'), stringify(rules));
    const result = run('promtool', ['check', 'rules', 'queries.yaml'], dir);
    if (result.ok) return [];
    // promtool names the failing rule by its position: map it back to the panel.
    return [`dashboard queries: ${summarize(result.output).replace(/dashboard:query:(\d+)/g, (_, i: string) => prom[Number(i)]!.where)}`];
  });
}

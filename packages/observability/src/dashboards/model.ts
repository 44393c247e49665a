/**
 * Grafana dashboards described in TypeScript and rendered to the JSON Grafana's file provisioning reads.
 * Panels are laid out left to right in rows of 24 columns; datasources are referenced by the uids the
 * provisioned datasources carry.
 */
export const DATASOURCES = { prometheus: 'prometheus', logs: 'victorialogs' } as const;
/** The Grafana datasource plugin each is read through. */
export const DATASOURCE_TYPES = { prometheus: 'prometheus', logs: 'victoriametrics-logs-datasource' } as const;
export type DatasourceName = keyof typeof DATASOURCES;

export interface Query {
  expr: string;
  legend?: string;
}

export interface PanelSpec {
  title: string;
  type: 'timeseries' | 'stat' | 'gauge' | 'table' | 'logs';
  queries: Query[];
  description?: string;
  unit?: string;
  /** Columns out of 24. */
  width?: number;
  height?: number;
  datasource?: DatasourceName;
  /** For stat and gauge: the value turns amber, then red, above these. */
  thresholds?: [number, number];
  min?: number;
  max?: number;
}

export interface VariableSpec {
  name: string;
  label: string;
  /** label_values(...) query against Prometheus. */
  query: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  variables?: VariableSpec[];
  rows: Array<{ title: string; panels: PanelSpec[] }>;
}

export type Json = Record<string, unknown>;

function panelJson(panel: PanelSpec, id: number, gridPos: Json): Json {
  const name = panel.datasource ?? 'prometheus';
  const datasource = { type: DATASOURCE_TYPES[name], uid: DATASOURCES[name] };
  const steps = panel.thresholds
    ? [
        { color: 'green', value: null },
        { color: 'orange', value: panel.thresholds[0] },
        { color: 'red', value: panel.thresholds[1] },
      ]
    : [{ color: 'green', value: null }];
  const defaults: Json = { thresholds: { mode: 'absolute', steps } };
  if (panel.unit) defaults.unit = panel.unit;
  if (panel.min !== undefined) defaults.min = panel.min;
  if (panel.max !== undefined) defaults.max = panel.max;
  return {
    id,
    type: panel.type,
    title: panel.title,
    ...(panel.description ? { description: panel.description } : {}),
    gridPos,
    datasource,
    targets: panel.queries.map((q, i) => ({ refId: String.fromCharCode(65 + i), datasource, expr: q.expr, ...(name === 'logs' ? { queryType: 'instant' } : {}), ...(q.legend ? { legendFormat: q.legend } : {}) })),
    fieldConfig: { defaults, overrides: [] },
    options: panel.type === 'logs' ? { showTime: true, wrapLogMessage: true, sortOrder: 'Descending' } : { legend: { displayMode: 'list', placement: 'bottom' } },
  };
}

export function dashboardJson(spec: DashboardSpec): Json {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? 12;
      const h = panel.height ?? (panel.type === 'stat' || panel.type === 'gauge' ? 4 : 8);
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panelJson(panel, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['groundwork'],
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    timezone: 'browser',
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    annotations: { list: [] },
    templating: {
      list: (spec.variables ?? []).map((v) => ({
        name: v.name,
        label: v.label,
        type: 'query',
        datasource: { type: 'prometheus', uid: DATASOURCES.prometheus },
        query: { query: v.query, refId: v.name },
        definition: v.query,
        refresh: 2,
        includeAll: true,
        multi: true,
        allValue: '.+',
        current: {},
        sort: 1,
      })),
    },
    panels,
  };
}

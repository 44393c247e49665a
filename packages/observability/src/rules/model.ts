/**
 * Alert rules as data. Each rule carries two promtool unit tests: series on which it must fire (with the
 * exact labels of the alert) and series on which it must stay quiet. Annotations use only {{ $labels.x }}
 * so the expected annotations of a test follow from its expected labels.
 */
export type Severity = 'critical' | 'warning' | 'none';

export interface AlertCase {
  /** input_series: [series selector, promtool expanding notation such as "0+1x20" or "1x30"]. */
  series: Array<[string, string]>;
  /** When to evaluate, from the start of the series (e.g. "15m"). */
  at: string;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  severity: Severity;
  /**
   * Names the problem a warning/critical pair watches (e.g. "filesystem-space"): Alertmanager holds back
   * the warning while the critical alert for the same object fires.
   */
  problem?: string;
  summary: string;
  description: string;
  fires: AlertCase & { labels: Array<Record<string, string>> };
  /** Left out only for an alert that must always fire (the Watchdog). */
  quiet?: AlertCase;
}

export interface RuleGroup {
  /** rules/<file>.yaml */
  file: string;
  name: string;
  rules: AlertRule[];
}

function render(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
}

/** The Prometheus rule file for a group. */
export function ruleFile(group: RuleGroup): Record<string, unknown> {
  return {
    groups: [
      {
        name: group.name,
        rules: group.rules.map((r) => ({
          alert: r.alert,
          expr: r.expr,
          ...(r.for ? { for: r.for } : {}),
          labels: { severity: r.severity, ...(r.problem ? { problem: r.problem } : {}) },
          annotations: { summary: r.summary, description: r.description },
        })),
      },
    ],
  };
}

/** promtool test rules input for a group: for each alert, one case that fires and one that stays quiet. */
export function ruleTests(group: RuleGroup, ruleFilePath: string): Record<string, unknown> {
  const testCase = (rule: AlertRule, c: AlertCase, expected: Array<Record<string, string>>) => ({
    interval: '1m',
    input_series: c.series.map(([series, values]) => ({ series, values })),
    alert_rule_test: [
      {
        eval_time: c.at,
        alertname: rule.alert,
        exp_alerts: expected.map((labels) => {
          const all = { ...labels, severity: rule.severity, ...(rule.problem ? { problem: rule.problem } : {}) };
          return { exp_labels: all, exp_annotations: { summary: render(rule.summary, all), description: render(rule.description, all) } };
        }),
      },
    ],
  });
  return {
    rule_files: [ruleFilePath],
    evaluation_interval: '1m',
    tests: group.rules.flatMap((rule) => [testCase(rule, rule.fires, rule.fires.labels), ...(rule.quiet ? [testCase(rule, rule.quiet, [])] : [])]),
  };
}

import type { KubeApi, LiveCheck } from '@groundwork/kube';
import { NAMESPACE, PORTS } from '../names.ts';

/** A JSON GET through the API server's service proxy; the reason it failed when it did. */
async function getJson<T>(api: KubeApi, service: string, path: string, port = PORTS[service as keyof typeof PORTS]): Promise<{ value?: T; error?: string }> {
  try {
    const { status, body } = await api.proxyGet(NAMESPACE, service, port, path);
    if (status < 200 || status > 299) return { error: `${service} answered ${status} for ${path}` };
    return { value: JSON.parse(body) as T };
  } catch (error) {
    return { error: `${service} is unreachable through the API server (${(error as Error).message.split('\n')[0]})` };
  }
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError?: string;
}

/** Everything Prometheus is meant to scrape answers. */
const targets: LiveCheck = {
  name: 'targets',
  async run(api) {
    const { value, error } = await getJson<{ data: { activeTargets: Target[] } }>(api, 'prometheus', '/api/v1/targets?state=active');
    if (error || !value) return { ok: false, detail: error ?? 'no answer' };
    const all = value.data.activeTargets;
    const down = all.filter((t) => t.health !== 'up');
    if (all.length === 0) return { ok: false, detail: 'Prometheus has no targets' };
    if (down.length) return { ok: false, detail: `${all.length - down.length}/${all.length} targets up; down: ${down.map((t) => `${t.labels.job} ${t.labels.instance}${t.lastError ? ` (${t.lastError})` : ''}`).join('; ')}` };
    return { ok: true, detail: `${all.length}/${all.length} Prometheus targets up` };
  },
};

/** Prometheus has found Alertmanager, so alerts have somewhere to go. */
const alerting: LiveCheck = {
  name: 'alerting',
  async run(api) {
    const { value, error } = await getJson<{ data: { activeAlertmanagers: Array<{ url: string }> } }>(api, 'prometheus', '/api/v1/alertmanagers');
    if (error || !value) return { ok: false, detail: error ?? 'no answer' };
    const active = value.data.activeAlertmanagers;
    return active.length ? { ok: true, detail: `Prometheus sends alerts to ${active.map((a) => a.url).join(', ')}` } : { ok: false, detail: 'Prometheus has no reachable Alertmanager' };
  },
};

/** VictoriaLogs' answer to "which values does a stream field have" (/select/logsql/stream_field_values). */
export const NODES_WITH_LOGS_PATH = '/select/logsql/stream_field_values?query=*&field=node&start=15m';

/** VictoriaLogs has received log lines from every node in the last quarter of an hour. */
const logs: LiveCheck = {
  name: 'logs',
  async run(api, { cluster }) {
    const { value, error } = await getJson<{ values?: Array<{ value: string }> }>(api, 'victoria-logs', NODES_WITH_LOGS_PATH, PORTS.victoriaLogs);
    if (error || !value) return { ok: false, detail: error ?? 'no answer' };
    const seen = new Set((value.values ?? []).map((v) => v.value));
    const silent = cluster.config.nodes.map((n) => n.name).filter((n) => !seen.has(n));
    if (silent.length) return { ok: false, detail: `no logs from ${silent.join(', ')} in the last 15 minutes` };
    return { ok: true, detail: `VictoriaLogs received logs from all ${seen.size} nodes in the last 15 minutes` };
  },
};

const grafana: LiveCheck = {
  name: 'grafana',
  async run(api) {
    const { value, error } = await getJson<{ database?: string; version?: string }>(api, 'grafana', '/api/health');
    if (error || !value) return { ok: false, detail: error ?? 'no answer' };
    return value.database === 'ok' ? { ok: true, detail: `Grafana ${value.version ?? ''} healthy`.replace('  ', ' ') } : { ok: false, detail: `Grafana reports database ${value.database ?? 'unknown'}` };
  },
};

export const observabilityLiveChecks: LiveCheck[] = [targets, alerting, logs, grafana];

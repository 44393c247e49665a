import type { Cluster, LoadedCluster } from '@groundwork/cluster';

type Receiver = Cluster['features']['observability']['alerting']['receivers'][number];

/** Where Alertmanager reads receiver credentials: the SOPS Secret observability/alertmanager-receivers, mounted. */
export const SECRETS_DIR = '/etc/alertmanager/secrets';
export const RECEIVER_SECRET = 'alertmanager-receivers';

/** The credential keys each receiver needs in the Secret, and what each one is. */
export function receiverSecretKeys(cluster: Cluster): Record<string, string> {
  const keys: Record<string, string> = {};
  if (cluster.features.observability.alerting.heartbeat.enabled) keys['heartbeat-url'] = "the dead man's switch URL the Watchdog is sent to (healthchecks.io, Uptime Kuma push, …)";
  for (const r of cluster.features.observability.alerting.receivers) {
    if (r.email?.username) keys[`${r.name}-smtp-password`] = `SMTP password of ${r.email.username} for receiver ${r.name}`;
    if (r.slack) keys[`${r.name}-webhook-url`] = `Slack incoming-webhook URL for receiver ${r.name} (channel ${r.slack.channel})`;
    if (r.webhook?.bearerToken) keys[`${r.name}-token`] = `bearer token ${r.webhook.url} expects (receiver ${r.name})`;
    if (r.ntfy?.token) keys[`${r.name}-token`] = `ntfy access token (tk_…) allowed to publish to ${r.ntfy.topic}`;
  }
  return keys;
}

const file = (key: string) => `${SECRETS_DIR}/${key}`;
const bearer = (key: string) => ({ http_config: { authorization: { credentials_file: file(key) } } });

/** ntfy's template parameters turn Alertmanager's webhook JSON into a readable push notification. */
function ntfyUrl(server: string, topic: string): string {
  const params = new URLSearchParams({
    tpl: 'yes',
    t: '{{.status}}: {{.commonLabels.alertname}}',
    m: '{{range .alerts}}{{.annotations.summary}}\n{{end}}',
  });
  return `${server.replace(/\/+$/, '')}/${topic}?${params}`;
}

function receiver(r: Receiver): Record<string, unknown> {
  if (r.email) {
    return {
      name: r.name,
      email_configs: [
        {
          to: r.email.to.join(', '),
          from: r.email.from,
          smarthost: r.email.smarthost,
          ...(r.email.username ? { auth_username: r.email.username, auth_password_file: file(`${r.name}-smtp-password`) } : {}),
          require_tls: true,
          send_resolved: true,
        },
      ],
    };
  }
  if (r.slack) return { name: r.name, slack_configs: [{ api_url_file: file(`${r.name}-webhook-url`), channel: r.slack.channel, send_resolved: true }] };
  if (r.webhook) return { name: r.name, webhook_configs: [{ url: r.webhook.url, send_resolved: true, ...(r.webhook.bearerToken ? bearer(`${r.name}-token`) : {}) }] };
  const ntfy = r.ntfy!;
  return { name: r.name, webhook_configs: [{ url: ntfyUrl(ntfy.server, ntfy.topic), send_resolved: true, ...(ntfy.token ? bearer(`${r.name}-token`) : {}) }] };
}

/**
 * A warning and a critical alert about the same problem share a `problem` label (rules/model.ts); while the
 * critical one fires for an object, the warning for that same object is held back.
 */
const SAME_OBJECT = ['problem', 'namespace', 'instance', 'node', 'persistentvolumeclaim', 'mountpoint'];

/** alertmanager.yml from the cluster file's receivers and route. */
export function alertmanagerConfig(cluster: LoadedCluster): Record<string, unknown> {
  const { receivers, route, heartbeat } = cluster.config.features.observability.alerting;
  // Without receivers, alerts are only visible in Alertmanager and Grafana.
  const defaultReceiver = route.receiver ?? receivers[0]?.name ?? 'none';
  const routes: Array<Record<string, unknown>> = [
    // The always-firing Watchdog proves the pipeline works: it goes to the heartbeat service, which warns
    // when it stops arriving, and never to a person.
    heartbeat.enabled
      ? { receiver: 'heartbeat', matchers: ['alertname="Watchdog"'], group_wait: '0s', group_interval: heartbeat.interval, repeat_interval: heartbeat.interval }
      : { receiver: 'none', matchers: ['alertname="Watchdog"'] },
  ];
  if (route.critical && route.critical !== defaultReceiver) {
    // Critical alerts go to the critical receiver and, like everything else, to the default one.
    routes.push({ receiver: route.critical, matchers: ['severity="critical"'], continue: true }, { receiver: defaultReceiver, matchers: ['severity="critical"'] });
  }
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: defaultReceiver,
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes,
    },
    inhibit_rules: [{ source_matchers: ['severity="critical"', 'problem=~".+"'], target_matchers: ['severity="warning"', 'problem=~".+"'], equal: SAME_OBJECT }],
    receivers: [
      { name: 'none' },
      ...(heartbeat.enabled ? [{ name: 'heartbeat', webhook_configs: [{ url_file: file('heartbeat-url'), send_resolved: false }] }] : []),
      ...receivers.map(receiver),
    ],
  };
}

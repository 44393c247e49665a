import { describe, expect, it } from 'vitest';
import { exampleCluster, exampleVariant } from '@groundwork/testkit';
import { parse } from 'yaml';
import type { LoadedCluster } from '@groundwork/cluster';
import { checkPolicies, checkSchemas, footprint, formatFinding, parseQuantity, type KubeObject } from '@groundwork/kube';
import { applicableSecrets } from '@groundwork/secrets-sops';
import { components, renderedObjects } from './platform.ts';
import { prometheusSize, lokiSize } from './sizing.ts';
import secrets from './secrets.ts';

const GI = 2 ** 30;

function render(cluster: LoadedCluster): KubeObject[] {
  return renderedObjects(cluster);
}
const configMap = (objects: KubeObject[], name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)!.data as Record<string, string>;

describe('the observability layer for the example clusters', () => {
  for (const name of ['pi-fleet', 'proxmox-ha', 'metal-ha']) {
    it(`${name}: every object passes the schema and policy checks`, async () => {
      const objects = render(exampleCluster(name));
      expect((await checkSchemas(objects)).problems).toEqual([]);
      expect(checkPolicies(objects).map(formatFinding)).toEqual([]);
    });
  }

  it('renders nothing where the cluster file leaves it off', () => {
    expect(components(exampleCluster('docker-dev'))).toEqual([]);
  });

  it('fits the Raspberry Pi fleet in 1.5 GiB of requests, with its limits within the nodes', () => {
    const cluster = exampleCluster('pi-fleet');
    const fp = footprint(render(cluster), cluster.config);
    expect(fp.total.memoryRequests).toBeLessThanOrEqual(1.5 * GI);
    expect(fp.total.memoryLimits).toBeLessThan(fp.capacity.memoryBytes - fp.reserve.memoryBytes);
    // Per-node agents count once per node: 4 Raspberry Pis.
    expect(fp.workloads.find((w) => w.object === 'DaemonSet observability-agents/node-exporter')?.pods).toBe(4);
  });
});

describe('sizing', () => {
  it('sizes Prometheus from the nodes and says what its volume holds', () => {
    const pi = prometheusSize(exampleCluster('pi-fleet'));
    expect(pi).toMatchObject({ series: 13000, memoryRequest: '256Mi', memoryLimit: '512Mi', retentionTime: '15d', retentionSize: '6553MB' });
    expect(pi.daysBySize).toBeGreaterThan(15);
    const metal = prometheusSize(exampleCluster('metal-ha'));
    expect(metal.series).toBe(16000);
    expect(parseQuantity(metal.memoryRequest)).toBeGreaterThanOrEqual(parseQuantity(pi.memoryRequest));
    const args = (render(exampleCluster('proxmox-ha')).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'prometheus')!.spec as any).template.spec.containers[0].args as string[];
    expect(args).toEqual(expect.arrayContaining(['--storage.tsdb.retention.time=30d', '--storage.tsdb.retention.size=16384MB']));
  });

  it('keeps Loki alive through a long write-ahead-log replay: readiness on /ready, liveness on the listener only', () => {
    const loki = (render(exampleCluster('pi-fleet')).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'loki')!.spec as any).template.spec.containers[0];
    expect(loki.readinessProbe.httpGet.path).toBe('/ready');
    expect(loki.livenessProbe).toMatchObject({ tcpSocket: { port: 'http' } });
    expect(loki.env).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'GOMEMLIMIT' })]));
  });

  it('sends Loki the line the container wrote: every key but the log removed, so drop_single_key applies', () => {
    const text = configMap(render(exampleCluster('pi-fleet')), 'fluent-bit-config')['fluent-bit.conf']!;
    const output = text.slice(text.indexOf('[OUTPUT]'));
    const setting = (key: string) => new RegExp(`^\\s+${key}\\s+(.+)$`, 'm').exec(output)?.[1]?.trim();
    // The keys a record has after Fluent Bit's cri multiline parser and its kubernetes filter.
    const record = ['time', 'stream', '_p', 'log', 'kubernetes'];
    const removed = setting('remove_keys')!.split(',').map((k) => k.trim());
    expect(record.filter((k) => !removed.includes(k))).toEqual(['log']);
    expect(setting('drop_single_key')).toBe('raw');
  });

  it('keeps Loki small (no memcached) and turns the retention into hours', () => {
    const cluster = exampleCluster('pi-fleet');
    expect(lokiSize(cluster)).toMatchObject({ memoryRequest: '192Mi', retention: '7d' });
    const loki = parse(configMap(render(cluster), 'loki-config')['loki.yaml']!) as any;
    expect(loki.limits_config.retention_period).toBe('168h');
    expect(loki.compactor.retention_enabled).toBe(true);
    expect(JSON.stringify(loki)).not.toContain('memcached');
  });
});

describe('configuration from the cluster file', () => {
  it('routes critical alerts to the critical receiver and the default one, and inhibits the matching warning', () => {
    const am = parse(configMap(render(exampleCluster('metal-ha')), 'alertmanager-config')['alertmanager.yml']!) as any;
    expect(am.route.receiver).toBe('ops-slack');
    expect(am.route.routes).toEqual([
      { receiver: 'heartbeat', matchers: ['alertname="Watchdog"'], group_wait: '0s', group_interval: '5m', repeat_interval: '5m' },
      { receiver: 'pager', matchers: ['severity="critical"'], continue: true },
      { receiver: 'ops-slack', matchers: ['severity="critical"'] },
    ]);
    expect(am.inhibit_rules[0]).toMatchObject({ source_matchers: ['severity="critical"', 'problem=~".+"'], target_matchers: ['severity="warning"', 'problem=~".+"'] });
    expect(am.receivers.find((r: any) => r.name === 'ops-slack').slack_configs[0].api_url_file).toBe('/etc/alertmanager/secrets/ops-slack-webhook-url');
    const pager = am.receivers.find((r: any) => r.name === 'pager').webhook_configs[0];
    expect(pager.url).toMatch(/^https:\/\/ntfy\.example\.com\/metal-ha-critical\?tpl=yes&/);
    expect(pager.http_config.authorization.credentials_file).toBe('/etc/alertmanager/secrets/pager-token');
  });

  it('declares exactly the receiver credentials the cluster file needs', () => {
    const pi = exampleCluster('pi-fleet');
    const { observability } = pi.config.features;
    // The same cluster with only a public ntfy topic: no credentials at all.
    const publicTopic: LoadedCluster = { ...pi, config: { ...pi.config, features: { ...pi.config.features, observability: { ...observability, alerting: { ...observability.alerting, receivers: [{ name: 'phone', ntfy: { server: 'https://ntfy.sh', topic: 'pi-fleet-alerts', token: false, public: true } }] } } } } };
    const keys = (cluster: LoadedCluster) => applicableSecrets([secrets], cluster.config).find((s) => s.name === 'alertmanager-receivers')?.keys;
    expect(Object.keys(keys(exampleCluster('metal-ha')) ?? {})).toEqual(['heartbeat-url', 'ops-slack-webhook-url', 'pager-token']);
    expect(Object.keys(keys(exampleCluster('proxmox-ha')) ?? {})).toEqual(['ops-mail-smtp-password']);
    expect(Object.keys(keys(pi) ?? {})).toEqual(['phone-token']);
    expect(keys(publicTopic)).toBeUndefined();
    const mounts = (cluster: LoadedCluster) => (render(cluster).find((o) => o.metadata.name === 'alertmanager' && o.kind === 'StatefulSet')!.spec as any).template.spec.volumes.map((v: { name: string }) => v.name);
    expect(mounts(pi)).toContain('receivers');
    expect(mounts(publicTopic)).not.toContain('receivers');
  });

  it('scrapes the control planes only when the cluster file asks, and n8n and backup rules only with those features', () => {
    const jobs = (cluster: LoadedCluster) => (parse(configMap(render(cluster), 'prometheus-config')['prometheus.yml']!) as any).scrape_configs.map((j: { job_name: string }) => j.job_name);
    const rules = (cluster: LoadedCluster) => Object.keys(configMap(render(cluster), 'prometheus-rules')).sort();
    const pi = exampleCluster('pi-fleet');
    expect(jobs(pi)).toEqual(expect.arrayContaining(['etcd', 'kube-controller-manager', 'kube-scheduler', 'cilium-agent']));
    expect(rules(pi)).toEqual(['backups.yaml', 'control-plane.yaml', 'kubernetes.yaml', 'n8n.yaml', 'nodes.yaml', 'observability.yaml']);
    const quiet = exampleVariant('pi-fleet', (t) => t.replace('  observability:\n    enabled: true\n', '  observability:\n    enabled: true\n    controlPlaneMetrics: false\n').replace('  dr:\n    enabled: true\n', '  dr:\n    enabled: false\n'));
    expect(jobs(quiet)).not.toContain('etcd');
    expect(rules(quiet)).toEqual(['kubernetes.yaml', 'n8n.yaml', 'nodes.yaml', 'observability.yaml']);
  });

  it('serves Grafana on its host through the Ingress with provisioned datasources and dashboards', () => {
    const objects = render(exampleCluster('pi-fleet'));
    const ingress = objects.find((o) => o.kind === 'Ingress')!;
    expect((ingress.spec as any).rules[0].host).toBe('grafana.pi.home.arpa');
    const datasources = parse(configMap(objects, 'grafana-datasources')['datasources.yaml']!) as any;
    expect(datasources.datasources.map((d: { uid: string }) => d.uid)).toEqual(['prometheus', 'loki', 'alertmanager']);
    expect(Object.keys(configMap(objects, 'grafana-dashboards')).sort()).toEqual(['groundwork-cluster.json', 'groundwork-control-plane.json', 'groundwork-n8n.json', 'groundwork-nodes.json', 'groundwork-workloads.json']);
  });

  it('labels logs by namespace, pod, container and node', () => {
    const conf = configMap(render(exampleCluster('pi-fleet')), 'fluent-bit-config')['fluent-bit.conf']!;
    expect(conf).toContain("labels                 job=fluent-bit, node=${NODE_NAME}, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']");
    expect(conf).toMatch(/multiline\.parser\s+cri/);
  });
});

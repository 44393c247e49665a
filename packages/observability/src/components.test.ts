import { describe, expect, it } from 'vitest';
import { exampleCluster, exampleVariant, unclaimedNamespaces } from '@groundwork/testkit';
import { parse } from 'yaml';
import { TALOS_LOG_PORT, talosLogEndpoint, type LoadedCluster } from '@groundwork/cluster';
import { checkPolicies, checkSchemas, footprint, formatFinding, parseQuantity, type KubeObject } from '@groundwork/kube';
import { applicableSecrets } from '@groundwork/secrets-sops';
import { components, renderedObjects } from './platform.ts';
import { logStoreSize, prometheusSize } from './sizing.ts';
import secrets from './secrets.ts';
import { GRAFANA_PLUGINS } from './versions.ts';

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

  it('keeps VictoriaLogs alive through a long start: readiness on /health, liveness on the listener only, GOMEMLIMIT', () => {
    const store = (render(exampleCluster('pi-fleet')).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'victoria-logs')!.spec as any).template.spec.containers[0];
    expect(store.readinessProbe.httpGet.path).toBe('/health');
    expect(store.livenessProbe).toMatchObject({ tcpSocket: { port: 'http' } });
    expect(store.env).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'GOMEMLIMIT' })]));
  });

  it('keeps logs by age and by size: the retention from the cluster file, 80% of the volume', () => {
    const cluster = exampleCluster('pi-fleet');
    expect(logStoreSize(cluster)).toMatchObject({ memoryRequest: '128Mi', retention: '7d', volumeSize: '8Gi' });
    const store = (render(cluster).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'victoria-logs')!.spec as any).template.spec.containers[0];
    expect(store.args).toEqual(expect.arrayContaining(['-retentionPeriod=7d', `-retention.maxDiskSpaceUsageBytes=${Math.floor(8 * GI * 0.8)}`]));
  });

  it('runs the log shipper in the host network without API access, where Talos sends its logs', () => {
    const objects = render(exampleCluster('pi-fleet'));
    const spec = (objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'log-shipper')!.spec as any).template.spec;
    expect(spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', automountServiceAccountToken: false });
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding' && JSON.stringify(o).includes('log-shipper'))).toEqual([]);
    const config = parse(configMap(objects, 'log-shipper-config')['config.yaml']!) as any;
    expect(config.receivers['tcplog/talos'].listen_address).toBe(`127.0.0.1:${TALOS_LOG_PORT}`);
    expect(talosLogEndpoint(exampleCluster('pi-fleet').config)).toBe(`tcp://127.0.0.1:${TALOS_LOG_PORT}/`);
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
    expect(datasources.datasources.map((d: { uid: string; type: string }) => `${d.uid}:${d.type}`)).toEqual(['prometheus:prometheus', 'victorialogs:victoriametrics-logs-datasource', 'alertmanager:alertmanager']);
    // The VictoriaLogs datasource is a plugin: an init container installs it at the pinned version.
    const pod = (objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'grafana')!.spec as any).template.spec;
    expect(pod.initContainers.map((c: { command: string[] }) => c.command.slice(-2).join('@'))).toEqual(Object.values(GRAFANA_PLUGINS));
    expect(Object.keys(configMap(objects, 'grafana-dashboards')).sort()).toEqual(['groundwork-cluster.json', 'groundwork-control-plane.json', 'groundwork-n8n.json', 'groundwork-nodes.json', 'groundwork-workloads.json']);
  });
});

describe('namespaces the observability layer claims', () => {
  it('are all listed in the cluster file\'s CLAIMED_NAMESPACES, so no feature can be pointed at one of them', () => {
    expect(unclaimedNamespaces(renderedObjects)).toEqual({});
  });
});

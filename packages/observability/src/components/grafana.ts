import { grafanaHost, type LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, configHash, container, deployment, httpProbe, ingress, meta, networkPolicy, peers, secretKeyRef, selectorLabels, service, tcp, type App } from '@groundwork/kube';
import { INGRESS_PODS, TRAEFIK_NAMESPACE } from '@groundwork/platform-core';
import { stringify } from 'yaml';
import { DATASOURCES, DATASOURCE_TYPES, dashboardJson, dashboards } from '../dashboards/index.ts';
import { NAMESPACE, PORTS, serviceUrl } from '../names.ts';
import { GRAFANA_PLUGINS, IMAGES, tagOf } from '../versions.ts';

export const GRAFANA: App = { name: 'grafana', namespace: NAMESPACE, component: 'dashboards', partOf: 'observability', version: tagOf(IMAGES.grafana) };
export const ADMIN_SECRET = 'grafana-admin';
const DASHBOARD_DIR = '/var/lib/grafana/dashboards';

/** What Grafana's file provisioning reads: datasources, the dashboard provider, one JSON file per dashboard. */
export function grafanaFiles(cluster: LoadedCluster) {
  const datasources = {
    apiVersion: 1,
    datasources: [
      { name: 'Prometheus', type: 'prometheus', uid: DATASOURCES.prometheus, access: 'proxy', url: serviceUrl('prometheus'), isDefault: true, editable: false, jsonData: { timeInterval: '30s' } },
      { name: 'VictoriaLogs', type: DATASOURCE_TYPES.logs, uid: DATASOURCES.logs, access: 'proxy', url: serviceUrl('victoriaLogs', 'victoria-logs'), editable: false },
      { name: 'Alertmanager', type: 'alertmanager', uid: 'alertmanager', access: 'proxy', url: serviceUrl('alertmanager'), editable: false, jsonData: { implementation: 'prometheus' } },
    ],
  };
  const providers = {
    apiVersion: 1,
    providers: [{ name: 'groundwork', folder: 'groundwork', type: 'file', disableDeletion: true, allowUiUpdates: false, updateIntervalSeconds: 60, options: { path: DASHBOARD_DIR } }],
  };
  const boards = Object.fromEntries(dashboards(cluster).map((d) => [`${d.uid}.json`, `${JSON.stringify(dashboardJson(d), null, 2)}\n`]));
  return { datasources: { 'datasources.yaml': stringify(datasources) }, providers: { 'dashboards.yaml': stringify(providers) }, dashboards: boards };
}

export function grafana(cluster: LoadedCluster): object[] {
  const files = grafanaFiles(cluster);
  const host = grafanaHost(cluster.config);
  const { nodeCidr } = cluster.config.network;
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(GRAFANA, 'grafana-datasources'), data: files.datasources },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(GRAFANA, 'grafana-dashboard-providers'), data: files.providers },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(GRAFANA, 'grafana-dashboards'), data: files.dashboards },
    networkPolicy(NAMESPACE, 'grafana', {
      pods: selectorLabels(GRAFANA),
      ingress: [{ peers: [peers.pods(TRAEFIK_NAMESPACE, INGRESS_PODS), peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' }), peers.cidr(nodeCidr)], ports: tcp(PORTS.grafana) }],
      egress: [
        { peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' })], ports: tcp(PORTS.prometheus) },
        { peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'victoria-logs' })], ports: tcp(PORTS.victoriaLogs) },
        // The VictoriaLogs datasource plugin is downloaded from Grafana's plugin catalogue when the pod starts.
        { peers: [peers.internet()], ports: tcp(443) },
        { peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'alertmanager' })], ports: tcp(PORTS.alertmanager) },
      ],
    }),
    service(GRAFANA, { ports: [{ name: 'http', port: PORTS.grafana }] }),
    ingress(GRAFANA, { host, port: 'http' }),
    deployment(GRAFANA, {
      replicas: 1,
      // Everything it shows is provisioned from files: a new pod comes back with the same dashboards.
      strategy: 'Recreate',
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'dashboards are unavailable while it restarts; nothing is stored in it' },
      pod: {
        annotations: { 'groundwork.dev/config-hash': configHash(files), 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(PORTS.grafana) },
        security: { runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472, seccompProfile: { type: 'RuntimeDefault' } },
        // The VictoriaLogs datasource is a plugin: installed at its pinned version into the data volume first.
        initContainers: Object.values(GRAFANA_PLUGINS).map((pin, i) => {
          const [id, version] = pin.split('@') as [string, string];
          return container({
            name: `plugin-${i + 1}`,
            image: IMAGES.grafana,
            command: ['grafana', 'cli', '--pluginsDir', '/var/lib/grafana/plugins', 'plugins', 'install', id, version],
            resources: { cpu: '10m', memory: '64Mi', memoryLimit: '256Mi' },
            mounts: [{ name: 'data', mountPath: '/var/lib/grafana' }, { name: 'tmp', mountPath: '/tmp' }],
          });
        }),
        containers: [
          container({
            name: 'grafana',
            image: IMAGES.grafana,
            goMemoryLimit: true,
            env: {
              GF_SERVER_ROOT_URL: `https://${host}/`,
              GF_SECURITY_ADMIN_USER: 'admin',
              GF_SECURITY_ADMIN_PASSWORD: secretKeyRef(ADMIN_SECRET, 'password'),
              GF_SECURITY_COOKIE_SECURE: 'true',
              GF_USERS_ALLOW_SIGN_UP: 'false',
              GF_AUTH_ANONYMOUS_ENABLED: 'false',
              GF_ANALYTICS_REPORTING_ENABLED: 'false',
              GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
              GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
              // Nothing Grafana would add by itself at start: the pinned plugins come from the init container.
              GF_PLUGINS_PREINSTALL_DISABLED: 'true',
              GF_PATHS_DATA: '/var/lib/grafana',
              GF_PATHS_PROVISIONING: '/etc/grafana/provisioning',
              GF_LOG_MODE: 'console',
            },
            ports: { http: PORTS.grafana },
            resources: { cpu: '50m', memory: '128Mi', memoryLimit: '384Mi' },
            liveness: httpProbe('/api/health', 'http', { initialDelaySeconds: 30 }),
            readiness: httpProbe('/api/health', 'http'),
            mounts: [
              { name: 'data', mountPath: '/var/lib/grafana' },
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
              { name: 'providers', mountPath: '/etc/grafana/provisioning/dashboards', readOnly: true },
              { name: 'dashboards', mountPath: DASHBOARD_DIR, readOnly: true },
            ],
          }),
        ],
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'tmp', emptyDir: {} },
          { name: 'datasources', configMap: { name: 'grafana-datasources' } },
          { name: 'providers', configMap: { name: 'grafana-dashboard-providers' } },
          { name: 'dashboards', configMap: { name: 'grafana-dashboards' } },
        ],
      },
    }),
  ];
}

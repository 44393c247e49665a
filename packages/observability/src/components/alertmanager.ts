import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, configHash, container, httpProbe, meta, networkPolicy, peers, selectorLabels, service, statefulSet, tcp, type App } from '@groundwork/kube';
import { stringify } from 'yaml';
import { RECEIVER_SECRET, SECRETS_DIR, alertmanagerConfig, receiverSecretKeys } from '../config/alertmanager-config.ts';
import { NAMESPACE, PORTS } from '../names.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const ALERTMANAGER: App = { name: 'alertmanager', namespace: NAMESPACE, component: 'alerting', partOf: 'observability', version: tagOf(IMAGES.alertmanager) };

export function alertmanagerFile(cluster: LoadedCluster): string {
  return stringify(alertmanagerConfig(cluster), { lineWidth: 0 });
}

/** SMTP submission, SMTPS, HTTPS (chat, ntfy, webhooks) and plain HTTP webhooks. */
const RECEIVER_PORTS = [25, 465, 587, 443, 80];

export function alertmanager(cluster: LoadedCluster): object[] {
  const config = alertmanagerFile(cluster);
  const needsSecret = Object.keys(receiverSecretKeys(cluster.config)).length > 0;
  const { nodeCidr } = cluster.config.network;
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(ALERTMANAGER, 'alertmanager-config'), data: { 'alertmanager.yml': config } },
    networkPolicy(NAMESPACE, 'alertmanager', {
      pods: selectorLabels(ALERTMANAGER),
      ingress: [{ peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'prometheus' }), peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'grafana' }), peers.cidr(nodeCidr)], ports: tcp(PORTS.alertmanager) }],
      // Receivers may live on the LAN (an SMTP relay, a self-hosted ntfy) as well as on the internet.
      egress: [{ peers: [peers.cidr('0.0.0.0/0')], ports: tcp(...RECEIVER_PORTS) }],
    }),
    service(ALERTMANAGER, { ports: [{ name: 'http', port: PORTS.alertmanager }] }),
    statefulSet(ALERTMANAGER, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'notifications wait while it restarts; Prometheus resends firing alerts' },
      volumeClaims: [{ name: 'data', size: '256Mi' }],
      pod: {
        annotations: { 'groundwork.dev/config-hash': configHash(config) },
        security: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'alertmanager',
            image: IMAGES.alertmanager,
            goMemoryLimit: true,
            args: [
              '--config.file=/etc/alertmanager/config/alertmanager.yml',
              '--storage.path=/alertmanager',
              `--web.listen-address=:${PORTS.alertmanager}`,
              // One instance: no gossip cluster to form.
              '--cluster.listen-address=',
            ],
            ports: { http: PORTS.alertmanager },
            resources: { cpu: '10m', memory: '32Mi', memoryLimit: '128Mi' },
            liveness: httpProbe('/-/healthy', 'http'),
            readiness: httpProbe('/-/ready', 'http'),
            mounts: [
              { name: 'config', mountPath: '/etc/alertmanager/config', readOnly: true },
              { name: 'data', mountPath: '/alertmanager' },
              ...(needsSecret ? [{ name: 'receivers', mountPath: SECRETS_DIR, readOnly: true }] : []),
            ],
          }),
        ],
        volumes: [
          { name: 'config', configMap: { name: 'alertmanager-config' } },
          ...(needsSecret ? [{ name: 'receivers', secret: { secretName: RECEIVER_SECRET, defaultMode: 0o400 } }] : []),
        ],
      },
    }),
  ];
}

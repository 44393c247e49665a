import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, configHash, container, execProbe, meta, networkPolicy, secretKeyRef, selectorLabels, service, statefulSet, tcp } from '@groundwork/kube';
import { VALKEY_CONFIG_DIR, VALKEY_DATA, valkeyConfig } from '../config/valkey.ts';
import { NAMESPACE, PORTS, SECRETS, VALKEY } from '../names.ts';
import { IMAGES } from '../versions.ts';
import { n8nPods } from './network.ts';

/** The valkey user and group of the official Alpine image. */
const VALKEY_USER = 999;
const VALKEY_GROUP = 1000;
const MEMORY_LIMIT = '256Mi';

/** The password reaches the server on its command line (expanded by the kubelet), never in a file. */
export const VALKEY_COMMAND = ['valkey-server', `${VALKEY_CONFIG_DIR}/valkey.conf`, '--requirepass', '$(VALKEY_PASSWORD)'];
/** The CLI reads the password from REDISCLI_AUTH, so it stays off the probe's command line. */
export const VALKEY_PING = ['sh', '-c', `valkey-cli -h 127.0.0.1 -p ${PORTS.valkey} ping | grep -qx PONG`];

/** Valkey as n8n's queue: one replica, append-only file and snapshots on a volume. */
export function valkey(cluster: LoadedCluster): object[] {
  const config = valkeyConfig(MEMORY_LIMIT);
  const password = secretKeyRef(SECRETS.valkey.name, SECRETS.valkey.key);
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(VALKEY, 'valkey-config'), data: { 'valkey.conf': config } },
    networkPolicy(NAMESPACE, 'valkey', { pods: selectorLabels(VALKEY), ingress: [{ peers: [n8nPods()], ports: tcp(PORTS.valkey) }], egress: [] }),
    service(VALKEY, { ports: [{ name: 'valkey', port: PORTS.valkey }] }),
    statefulSet(VALKEY, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'new executions wait while it restarts; queued jobs survive on its volume' },
      volumeClaims: [{ name: 'data', size: cluster.config.features.n8n.queue.volumeSize }],
      pod: {
        annotations: { 'groundwork.dev/config-hash': configHash(config) },
        security: { runAsNonRoot: true, runAsUser: VALKEY_USER, runAsGroup: VALKEY_GROUP, fsGroup: VALKEY_GROUP, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'valkey',
            image: IMAGES.valkey,
            command: VALKEY_COMMAND,
            env: { VALKEY_PASSWORD: password, REDISCLI_AUTH: password },
            ports: { valkey: PORTS.valkey },
            resources: { cpu: '50m', memory: '64Mi', memoryLimit: MEMORY_LIMIT },
            readiness: execProbe(VALKEY_PING, { periodSeconds: 10 }),
            liveness: execProbe(VALKEY_PING, { periodSeconds: 30, failureThreshold: 5, initialDelaySeconds: 15 }),
            mounts: [
              { name: 'data', mountPath: VALKEY_DATA },
              { name: 'config', mountPath: VALKEY_CONFIG_DIR, readOnly: true },
            ],
          }),
        ],
        volumes: [{ name: 'config', configMap: { name: 'valkey-config' } }],
        spec: { terminationGracePeriodSeconds: 30 },
      },
    }),
  ];
}

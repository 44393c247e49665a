import type { LoadedCluster } from '@groundwork/cluster';
import {
  ANNOTATIONS,
  READ,
  allowApiServer,
  clusterAccess,
  clusterMeta,
  configHash,
  container,
  defaultDeny,
  deployment,
  httpProbe,
  meta,
  namespace,
  namespaceAccess,
  rule,
  serviceAccount,
  type App,
  type Component,
} from '@groundwork/kube';
import { stringify } from 'yaml';
import { IMAGES, tagOf } from '../versions.ts';

const NAMESPACE = 'local-path-storage';
export const STORAGE_CLASS = 'local-path';
/** The identity of the helper pods: no API access and no token (the provisioner's own defaults to a name we do not create). */
export const HELPER_ACCOUNT = 'local-path-helper';

/**
 * The capabilities containerd gives a container by default. The provisioner refuses a helper template that
 * *adds* capabilities (unless --allow-unsafe-helper-pod-template), so the helper keeps the three it needs by
 * dropping every other default one: CHOWN and FOWNER to hand a volume to its pod's user, DAC_OVERRIDE to remove
 * a volume whose files belong to another user.
 */
const RUNTIME_DEFAULT_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const HELPER_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'];

/** The pod the provisioner starts on a node to create or delete a volume's directory (it needs the host path). */
function helperPod(): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [
        {
          name: 'helper-pod',
          image: IMAGES.busybox,
          imagePullPolicy: 'IfNotPresent',
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: RUNTIME_DEFAULT_CAPABILITIES.filter((c) => !HELPER_CAPABILITIES.includes(c)) }, seccompProfile: { type: 'RuntimeDefault' } },
        },
      ],
    },
  });
}

/** Node-local volumes under the host path talos-config mounts into the kubelet; the default StorageClass. */
export function localPath(cluster: LoadedCluster): Component {
  const app: App = { name: 'local-path-provisioner', namespace: NAMESPACE, component: 'provisioner', partOf: 'local-path-provisioner', version: tagOf(IMAGES.localPathProvisioner) };
  const path = cluster.config.features.localStorage.hostPath;
  const config = {
    'config.json': `${JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [path] }] }, null, 2)}\n`,
    setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
    teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
    'helperPod.yaml': helperPod(),
  };
  return {
    name: 'local-path',
    description: `local-path-provisioner: node-local volumes under ${path}, the default StorageClass`,
    objects: [
      namespace(NAMESPACE, { level: 'privileged', reason: 'the provisioner\'s helper pods mount the node\'s volume directory (hostPath) to create and remove volumes' }),
      defaultDeny(NAMESPACE),
      // The provisioner only talks to the API; helper pods need no network at all.
      allowApiServer(NAMESPACE, cluster.config.network.nodeCidr),
      serviceAccount(app),
      serviceAccount(app, HELPER_ACCOUNT),
      ...namespaceAccess(app, [rule([''], ['pods'], `${READ} create patch update delete`)]),
      ...clusterAccess(app, [
        rule([''], ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], READ),
        rule([''], ['persistentvolumes'], `${READ} create patch update delete`),
        rule([''], ['events'], 'create patch'),
        rule(['storage.k8s.io'], ['storageclasses'], READ),
      ]),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(app, 'local-path-config'), data: config },
      deployment(app, {
        replicas: 1,
        strategy: 'Recreate',
        annotations: { [ANNOTATIONS.singleReplicaReason]: 'only new volumes wait while it restarts; existing volumes keep working' },
        pod: {
          serviceAccount: app.name,
          annotations: { 'groundwork.dev/config-hash': configHash(config) },
          containers: [
            container({
              name: 'local-path-provisioner',
              image: IMAGES.localPathProvisioner,
              goMemoryLimit: true,
              command: ['local-path-provisioner', 'start', '--config', '/etc/config/config.json', '--service-account-name', HELPER_ACCOUNT],
              env: { POD_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } }, CONFIG_MOUNT_PATH: '/etc/config/', HEALTH_PORT: '8080' },
              ports: { health: 8080 },
              resources: { cpu: '10m', memory: '32Mi', memoryLimit: '128Mi' },
              startup: httpProbe('/health', 'health', { periodSeconds: 5, failureThreshold: 12 }),
              liveness: httpProbe('/health', 'health'),
              readiness: httpProbe('/ready', 'health', { periodSeconds: 5 }),
              mounts: [{ name: 'config-volume', mountPath: '/etc/config/' }],
            }),
          ],
          volumes: [{ name: 'config-volume', configMap: { name: 'local-path-config' } }],
        },
      }),
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: clusterMeta(app, STORAGE_CLASS, { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
        provisioner: 'rancher.io/local-path',
        volumeBindingMode: 'WaitForFirstConsumer',
        reclaimPolicy: 'Delete',
      },
    ],
  };
}

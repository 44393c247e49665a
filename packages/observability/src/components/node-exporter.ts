import type { LoadedCluster } from '@groundwork/cluster';
import { container, daemonSet, httpProbe, type App } from '@groundwork/kube';
import { AGENTS_NAMESPACE, PORTS } from '../names.ts';
import { IMAGES, tagOf } from '../versions.ts';

export const NODE_EXPORTER: App = { name: 'node-exporter', namespace: AGENTS_NAMESPACE, component: 'exporter', partOf: 'observability', version: tagOf(IMAGES.nodeExporter) };

/** Devices that are pod plumbing (Cilium, veth pairs), not the node's network. */
const VIRTUAL_DEVICES = '^(lo|cilium.*|lxc.*|veth.*)$';

/** Hardware and OS metrics of every node; it reads the host itself, hence the host namespaces (see the namespace's reason). */
export function nodeExporter(_cluster: LoadedCluster): object[] {
  return [
    daemonSet(NODE_EXPORTER, {
      pod: {
        security: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'node-exporter',
            image: IMAGES.nodeExporter,
            goMemoryLimit: true,
            args: [
              '--path.procfs=/host/proc',
              '--path.sysfs=/host/sys',
              '--path.rootfs=/host/root',
              `--web.listen-address=:${PORTS.nodeExporter}`,
              '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/kubelet/pods/.+|var/lib/containerd/.+|system/.+)($|/)',
              `--collector.netclass.ignored-devices=${VIRTUAL_DEVICES}`,
              `--collector.netdev.device-exclude=${VIRTUAL_DEVICES}`,
              '--no-collector.wifi',
            ],
            ports: { metrics: PORTS.nodeExporter },
            resources: { cpu: '20m', memory: '32Mi', memoryLimit: '96Mi' },
            liveness: httpProbe('/', 'metrics'),
            readiness: httpProbe('/', 'metrics'),
            mounts: [
              { name: 'proc', mountPath: '/host/proc', readOnly: true },
              { name: 'sys', mountPath: '/host/sys', readOnly: true },
              { name: 'root', mountPath: '/host/root', readOnly: true, mountPropagation: 'HostToContainer' },
            ],
          }),
        ],
        volumes: [
          { name: 'proc', hostPath: { path: '/proc' } },
          { name: 'sys', hostPath: { path: '/sys' } },
          { name: 'root', hostPath: { path: '/' } },
        ],
        spec: { hostNetwork: true, hostPID: true, priorityClassName: 'system-node-critical', tolerations: [{ operator: 'Exists' }] },
      },
    }),
  ];
}

import { loadBalancerPool, type LoadedCluster } from '@groundwork/cluster';
import {
  READ,
  clusterAccess,
  configHash,
  container,
  daemonSet,
  defaultDeny,
  deployment,
  disruptionBudget,
  fieldRef,
  httpProbe,
  meta,
  namespace,
  namespaceAccess,
  rule,
  selectorLabels,
  serviceAccount,
  type App,
  type Component,
} from '@groundwork/kube';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { IMAGES, tagOf } from '../versions.ts';

export const CILIUM_NAMESPACE = 'cilium';

/** KubePrism: Talos's node-local API endpoint, so Cilium reaches the API before any Service works. */
const API = { host: 'localhost', port: '7445' };
const HEALTH_PORT = 9879;
const OPERATOR_PORT = 9234;

/** Capabilities the Talos guide lists for the agent (the chart's list without SYS_MODULE: Talos loads no modules for pods). */
const AGENT_CAPABILITIES = ['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];
const CLEAN_STATE_CAPABILITIES = ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE'];

function ciliumConfig(cluster: LoadedCluster): Record<string, string> {
  const { features, network } = cluster.config;
  const kpr = features.cilium.kubeProxyReplacement;
  const announce = loadBalancerPool(cluster.config) !== undefined;
  return {
    'cluster-name': cluster.name,
    'cluster-id': '0',
    'identity-allocation-mode': 'crd',
    debug: 'false',
    'enable-ipv4': 'true',
    'enable-ipv6': 'false',
    // Pod CIDRs come from the node objects (Talos's controller-manager allocates them from network.podCidr).
    ipam: 'kubernetes',
    'kube-proxy-replacement': kpr ? 'true' : 'false',
    // All nodes share one L2 network, so pods are routed natively, without a tunnel.
    'routing-mode': 'native',
    'ipv4-native-routing-cidr': network.podCidr,
    'auto-direct-node-routes': 'true',
    'enable-ipv4-masquerade': 'true',
    'enable-bpf-masquerade': kpr ? 'true' : 'false',
    // BPF host routing with BPF masquerade breaks Talos's host DNS forwarding (siderolabs/talos#10002).
    'enable-host-legacy-routing': 'true',
    // Talos mounts cgroup v2 itself; Cilium must not mount its own.
    'cgroup-root': '/sys/fs/cgroup',
    'enable-l2-announcements': announce ? 'true' : 'false',
    ...(announce ? { 'l2-announcements-lease-duration': '15s', 'l2-announcements-renew-deadline': '5s', 'l2-announcements-retry-period': '2s' } : {}),
    // Leases for L2 announcements add API traffic; the defaults (5/10) throttle it on busy nodes.
    'k8s-client-qps': '10',
    'k8s-client-burst': '20',
    'enable-policy': 'default',
    'enable-k8s-networkpolicy': 'true',
    // NetworkPolicy ipBlocks may name node addresses (the API server, kubelets); Cilium only matches them with this.
    'policy-cidr-match-mode': 'nodes',
    'enable-hubble': 'false',
    'enable-l7-proxy': 'false',
    'external-envoy-proxy': 'false',
    'enable-envoy-config': 'false',
    'enable-health-checking': 'true',
    'enable-endpoint-health-checking': 'true',
    'agent-health-port': String(HEALTH_PORT),
    'operator-api-serve-addr': `127.0.0.1:${OPERATOR_PORT}`,
    'enable-metrics': 'true',
    'prometheus-serve-addr': ':9962',
    'operator-prometheus-serve-addr': ':9963',
    'bpf-map-dynamic-size-ratio': '0.0025',
    'preallocate-bpf-maps': 'false',
    'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist',
    'cni-exclusive': 'true',
    'cni-log-file': '/var/run/cilium/cilium-cni.log',
    'remove-cilium-node-taints': 'true',
    'set-cilium-node-taints': 'true',
    'set-cilium-is-up-condition': 'true',
  };
}

const hostPath = (name: string, path: string, type?: 'DirectoryOrCreate' | 'FileOrCreate' | 'Directory'): IVolume => ({ name, hostPath: { path, ...(type ? { type } : {}) } });
const apiEnv = { KUBERNETES_SERVICE_HOST: API.host, KUBERNETES_SERVICE_PORT: API.port };

/** The agent's privileges are spelled out container by container: the namespace's reason says why. */
function agentContainers(): { init: IContainer[]; agent: IContainer } {
  // As the upstream chart does: unprivileged containers with explicit capabilities, the node's default seccomp profile.
  const caps = (add: string[]) => ({ capabilities: { ...(add.length ? { add } : {}), drop: ['ALL'] }, seLinuxOptions: { level: 's0', type: 'spc_t' }, allowPrivilegeEscalation: undefined, readOnlyRootFilesystem: false, runAsNonRoot: false, seccompProfile: undefined });
  const small = { cpu: '10m', memory: '16Mi', memoryLimit: '128Mi' };
  const init: IContainer[] = [
    container({ name: 'config', image: IMAGES.cilium, command: ['cilium-dbg', 'build-config'], env: { K8S_NODE_NAME: fieldRef('spec.nodeName'), CILIUM_K8S_NAMESPACE: fieldRef('metadata.namespace'), ...apiEnv }, resources: small, mounts: [{ name: 'tmp', mountPath: '/tmp' }], security: caps([]) }),
    // Talos mounts the BPF filesystem already; this only mounts it where it is missing, which needs privilege.
    container({ name: 'mount-bpf-fs', image: IMAGES.cilium, command: ['/bin/bash', '-c', '--'], args: ['mount | grep "/sys/fs/bpf type bpf" || mount -t bpf bpf /sys/fs/bpf'], resources: small, mounts: [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'Bidirectional' }], security: { privileged: true, allowPrivilegeEscalation: true, capabilities: undefined, readOnlyRootFilesystem: false, runAsNonRoot: false, seccompProfile: undefined } }),
    container({ name: 'clean-cilium-state', image: IMAGES.cilium, command: ['/init-container.sh'], env: { CILIUM_ALL_STATE: { configMapKeyRef: { name: 'cilium-config', key: 'clean-cilium-state', optional: true } }, CILIUM_BPF_STATE: { configMapKeyRef: { name: 'cilium-config', key: 'clean-cilium-bpf-state', optional: true } }, ...apiEnv }, resources: small, mounts: [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf' }, { name: 'cilium-cgroup', mountPath: '/sys/fs/cgroup', mountPropagation: 'HostToContainer' }, { name: 'cilium-run', mountPath: '/var/run/cilium' }], security: caps(CLEAN_STATE_CAPABILITIES) }),
    container({ name: 'install-cni-binaries', image: IMAGES.cilium, command: ['/install-plugin.sh'], resources: small, mounts: [{ name: 'cni-path', mountPath: '/host/opt/cni/bin' }], security: caps([]) }),
  ];
  const health = (failureThreshold: number, periodSeconds: number) => ({ ...httpProbe('/healthz', HEALTH_PORT, { periodSeconds, failureThreshold }), httpGet: { host: '127.0.0.1', path: '/healthz', port: HEALTH_PORT, httpHeaders: [{ name: 'brief', value: 'true' }] } });
  const agent = container({
    name: 'cilium-agent',
    image: IMAGES.cilium,
    command: ['cilium-agent'],
    goMemoryLimit: true,
    args: ['--config-dir=/tmp/cilium/config-map'],
    env: { K8S_NODE_NAME: fieldRef('spec.nodeName'), CILIUM_K8S_NAMESPACE: fieldRef('metadata.namespace'), ...apiEnv },
    resources: { cpu: '100m', memory: '160Mi', memoryLimit: '1Gi' },
    startup: health(105, 2),
    liveness: health(10, 30),
    readiness: health(3, 30),
    mounts: [
      { name: 'host-proc-sys-net', mountPath: '/host/proc/sys/net' },
      { name: 'host-proc-sys-kernel', mountPath: '/host/proc/sys/kernel' },
      { name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
      { name: 'cilium-cgroup', mountPath: '/sys/fs/cgroup' },
      { name: 'cilium-run', mountPath: '/var/run/cilium' },
      { name: 'etc-cni-netd', mountPath: '/host/etc/cni/net.d' },
      { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
      { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
      { name: 'tmp', mountPath: '/tmp' },
    ],
    security: caps(AGENT_CAPABILITIES),
  });
  return { init, agent: { ...agent, lifecycle: { preStop: { exec: { command: ['/cni-uninstall.sh'] } } } } };
}

function agent(config: Record<string, string>): object[] {
  const app: App = { name: 'cilium', namespace: CILIUM_NAMESPACE, component: 'agent', partOf: 'cilium', version: tagOf(IMAGES.cilium) };
  const { init, agent: main } = agentContainers();
  return [
    serviceAccount(app),
    ...clusterAccess(app, [
      rule(['networking.k8s.io'], ['networkpolicies'], READ),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      rule([''], ['namespaces', 'services', 'pods', 'endpoints', 'nodes'], READ),
      rule([''], ['nodes/status'], 'patch'),
      rule(['coordination.k8s.io'], ['leases'], 'create get update list delete'),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], 'list watch get'),
      rule(['cilium.io'], ['ciliumloadbalancerippools', 'ciliumbgppeeringpolicies', 'ciliumclusterwideenvoyconfigs', 'ciliumclusterwidenetworkpolicies', 'ciliumegressgatewaypolicies', 'ciliumendpoints', 'ciliumendpointslices', 'ciliumenvoyconfigs', 'ciliumidentities', 'ciliumlocalredirectpolicies', 'ciliumnetworkpolicies', 'ciliumnodes', 'ciliumnodeconfigs', 'ciliumcidrgroups', 'ciliuml2announcementpolicies', 'ciliumpodippools'], 'list watch'),
      rule(['cilium.io'], ['ciliumidentities', 'ciliumendpoints', 'ciliumnodes'], 'create'),
      rule(['cilium.io'], ['ciliumidentities'], 'update'),
      rule(['cilium.io'], ['ciliumendpoints'], 'delete get'),
      rule(['cilium.io'], ['ciliumnodes', 'ciliumnodes/status'], 'get update'),
      rule(['cilium.io'], ['ciliumnetworkpolicies/status', 'ciliumclusterwidenetworkpolicies/status', 'ciliumendpoints/status', 'ciliumendpoints', 'ciliuml2announcementpolicies/status'], 'patch'),
    ]),
    ...namespaceAccess(app, [rule([''], ['configmaps'], READ)], { name: 'cilium-config-agent' }),
    daemonSet(app, {
      pod: {
        serviceAccount: app.name,
        containers: [main],
        initContainers: init,
        annotations: { 'groundwork.dev/config-hash': configHash(config) },
        security: { appArmorProfile: { type: 'Unconfined' } },
        volumes: [
          { name: 'tmp', emptyDir: {} },
          hostPath('cilium-run', '/var/run/cilium', 'DirectoryOrCreate'),
          hostPath('bpf-maps', '/sys/fs/bpf', 'DirectoryOrCreate'),
          hostPath('cilium-cgroup', '/sys/fs/cgroup', 'DirectoryOrCreate'),
          hostPath('cni-path', '/opt/cni/bin', 'DirectoryOrCreate'),
          hostPath('etc-cni-netd', '/etc/cni/net.d', 'DirectoryOrCreate'),
          hostPath('lib-modules', '/lib/modules'),
          hostPath('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
          hostPath('host-proc-sys-net', '/proc/sys/net', 'Directory'),
          hostPath('host-proc-sys-kernel', '/proc/sys/kernel', 'Directory'),
        ],
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          terminationGracePeriodSeconds: 1,
          // The CNI itself: it must run on every node, NotReady ones included (they wait for it).
          tolerations: [{ operator: 'Exists' }],
        },
      },
    }),
  ];
}

function operator(cluster: LoadedCluster, config: Record<string, string>): object[] {
  const app: App = { name: 'cilium-operator', namespace: CILIUM_NAMESPACE, component: 'operator', partOf: 'cilium', version: tagOf(IMAGES.ciliumOperator) };
  const replicas = cluster.config.nodes.length > 1 ? 2 : 1;
  const health = httpProbe('/healthz', OPERATOR_PORT, { periodSeconds: 10 });
  const probe = { ...health, httpGet: { host: '127.0.0.1', path: '/healthz', port: OPERATOR_PORT } };
  const objects: object[] = [
    serviceAccount(app),
    ...clusterAccess(app, [
      rule([''], ['pods'], `${READ} delete`),
      rule([''], ['configmaps'], 'patch', ['cilium-config']),
      rule([''], ['nodes'], 'list watch'),
      rule([''], ['nodes', 'nodes/status'], 'patch'),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      rule([''], ['services/status'], 'update patch'),
      rule([''], ['namespaces', 'services'], READ),
      rule(['cilium.io'], ['ciliumnetworkpolicies', 'ciliumclusterwidenetworkpolicies'], `create update deletecollection patch ${READ}`),
      rule(['cilium.io'], ['ciliumnetworkpolicies/status', 'ciliumclusterwidenetworkpolicies/status'], 'patch update'),
      rule(['cilium.io'], ['ciliumendpoints', 'ciliumidentities'], 'delete list watch'),
      rule(['cilium.io'], ['ciliumidentities'], 'update'),
      rule(['cilium.io'], ['ciliumnodes'], `create update ${READ} delete`),
      rule(['cilium.io'], ['ciliumnodes/status'], 'update'),
      rule(['cilium.io'], ['ciliumendpointslices', 'ciliumenvoyconfigs', 'ciliumbgppeerconfigs', 'ciliumbgpadvertisements', 'ciliumbgpnodeconfigs'], `create update ${READ} delete patch`),
      rule(['cilium.io'], ['ciliumbgpclusterconfigs/status', 'ciliumbgppeerconfigs/status'], 'update'),
      // The operator registers Cilium's CRDs at start (the chart ships none), and later updates them.
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], `create ${READ}`),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], 'update', ['ciliumloadbalancerippools.cilium.io', 'ciliumbgpclusterconfigs.cilium.io', 'ciliumbgppeerconfigs.cilium.io', 'ciliumbgpadvertisements.cilium.io', 'ciliumbgpnodeconfigs.cilium.io', 'ciliumbgpnodeconfigoverrides.cilium.io', 'ciliumclusterwideenvoyconfigs.cilium.io', 'ciliumclusterwidenetworkpolicies.cilium.io', 'ciliumegressgatewaypolicies.cilium.io', 'ciliumendpoints.cilium.io', 'ciliumendpointslices.cilium.io', 'ciliumenvoyconfigs.cilium.io', 'ciliumidentities.cilium.io', 'ciliumlocalredirectpolicies.cilium.io', 'ciliumnetworkpolicies.cilium.io', 'ciliumnodes.cilium.io', 'ciliumnodeconfigs.cilium.io', 'ciliumcidrgroups.cilium.io', 'ciliuml2announcementpolicies.cilium.io', 'ciliumpodippools.cilium.io', 'ciliumgatewayclassconfigs.cilium.io']),
      rule(['cilium.io'], ['ciliumloadbalancerippools', 'ciliumpodippools', 'ciliumbgpclusterconfigs', 'ciliumbgpnodeconfigoverrides', 'ciliumbgppeerconfigs'], READ),
      rule(['cilium.io'], ['ciliumpodippools'], 'create'),
      rule(['cilium.io'], ['ciliumloadbalancerippools/status'], 'patch'),
      rule(['coordination.k8s.io'], ['leases'], 'create get update'),
      rule(['cilium.io'], ['ciliumendpointslices'], 'deletecollection'),
    ]),
    deployment(app, {
      replicas,
      pod: {
        serviceAccount: app.name,
        annotations: { 'groundwork.dev/config-hash': configHash(config) },
        // The upstream image runs as root; the operator needs no capability, so all are dropped instead.
        security: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'cilium-operator',
            image: IMAGES.ciliumOperator,
            command: ['cilium-operator-generic'],
            goMemoryLimit: true,
            args: ['--config-dir=/tmp/cilium/config-map', '--debug=$(CILIUM_DEBUG)'],
            env: { K8S_NODE_NAME: fieldRef('spec.nodeName'), CILIUM_K8S_NAMESPACE: fieldRef('metadata.namespace'), CILIUM_DEBUG: { configMapKeyRef: { name: 'cilium-config', key: 'debug', optional: true } }, ...apiEnv },
            resources: { cpu: '25m', memory: '64Mi', memoryLimit: '256Mi' },
            liveness: { ...probe, initialDelaySeconds: 60 },
            readiness: { ...probe, failureThreshold: 5 },
            mounts: [{ name: 'cilium-config-path', mountPath: '/tmp/cilium/config-map', readOnly: true }],
            security: { runAsNonRoot: undefined },
          }),
        ],
        volumes: [{ name: 'cilium-config-path', configMap: { name: 'cilium-config' } }],
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-cluster-critical',
          tolerations: [{ operator: 'Exists' }],
          // Host network: two operators on one node would fight over their ports, so never co-locate them.
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorLabels(app) } }] } },
        },
      },
    }),
  ];
  if (replicas > 1) objects.push(disruptionBudget(app));
  return objects;
}

/** Cilium as CNI (and kube-proxy replacement), the way Talos documents it, plus its LoadBalancer address pool. */
export function cilium(cluster: LoadedCluster): Component {
  const config = ciliumConfig(cluster);
  const app: App = { name: 'cilium', namespace: CILIUM_NAMESPACE, partOf: 'cilium' };
  const pool = loadBalancerPool(cluster.config);
  const objects: object[] = [
    namespace(CILIUM_NAMESPACE, {
      level: 'privileged',
      reason: 'the Cilium agent is the node\'s network datapath: host network, host paths (BPF, cgroups, CNI) and network administration capabilities',
    }),
    // Every Cilium pod uses the host network, where NetworkPolicy does not apply; the deny is for anything added later.
    defaultDeny(CILIUM_NAMESPACE),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(app, 'cilium-config'), data: config },
    ...agent(config),
    ...operator(cluster, config),
  ];
  if (pool) {
    objects.push(
      { apiVersion: 'cilium.io/v2', kind: 'CiliumLoadBalancerIPPool', metadata: { name: 'default', labels: { 'app.kubernetes.io/part-of': 'cilium' } }, spec: { blocks: [{ start: pool.start, stop: pool.stop }] } },
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumL2AnnouncementPolicy',
        metadata: { name: 'default', labels: { 'app.kubernetes.io/part-of': 'cilium' } },
        spec: { loadBalancerIPs: true, externalIPs: false },
      },
    );
  }
  return { name: 'cilium', description: 'CNI and kube-proxy replacement; LoadBalancer addresses announced with L2 announcements', wave: 0, objects };
}


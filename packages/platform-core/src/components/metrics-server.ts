import { workers, type LoadedCluster } from '@groundwork/cluster';
import {
  ANNOTATIONS,
  READ,
  bindExisting,
  clusterAccess,
  clusterMeta,
  container,
  deployment,
  disruptionBudget,
  httpProbe,
  isolatedNamespace,
  namespaceAccess,
  networkPolicy,
  peers,
  rule,
  selectorLabels,
  service,
  serviceAccount,
  tcp,
  type App,
  type Component,
} from '@groundwork/kube';
import { IMAGES, tagOf } from '../versions.ts';

const NAMESPACE = 'metrics-server';

/**
 * Approves the kubelets' serving-certificate requests (Talos runs kubelets with rotate-server-certificates),
 * so metrics-server can verify them instead of using --kubelet-insecure-tls.
 */
function certApprover(): object[] {
  const app: App = { name: 'kubelet-serving-cert-approver', namespace: NAMESPACE, component: 'csr-approver', partOf: 'metrics-server', version: tagOf(IMAGES.kubeletServingCertApprover) };
  return [
    serviceAccount(app),
    ...clusterAccess(
      app,
      [
        rule(['certificates.k8s.io'], ['certificatesigningrequests'], READ),
        rule(['certificates.k8s.io'], ['certificatesigningrequests/approval'], 'update'),
        rule(['authorization.k8s.io'], ['subjectaccessreviews'], 'create'),
        rule(['certificates.k8s.io'], ['signers'], 'approve', ['kubernetes.io/kubelet-serving']),
      ],
      { name: 'kubelet-serving-cert-approver' },
    ),
    // Events about certificate requests (cluster-scoped objects) land in the default namespace.
    ...namespaceAccess(app, [rule([''], ['events'], 'create patch')], { name: 'kubelet-serving-cert-approver-events', namespace: 'default' }),
    deployment(app, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'only new kubelet certificates wait while it restarts' },
      pod: {
        serviceAccount: app.name,
        containers: [
          container({
            name: 'cert-approver',
            image: IMAGES.kubeletServingCertApprover,
            goMemoryLimit: true,
            args: ['serve'],
            env: { NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ports: { health: 8080, metrics: 9090 },
            resources: { cpu: '10m', memory: '16Mi', memoryLimit: '64Mi' },
            liveness: httpProbe('/healthz', 'health', { initialDelaySeconds: 6 }),
            readiness: httpProbe('/readyz', 'health', { initialDelaySeconds: 3 }),
          }),
        ],
        spec: {
          priorityClassName: 'system-cluster-critical',
          // Until it approves their certificates, fresh nodes may carry these taints.
          tolerations: [
            { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
          ],
        },
      },
    }),
  ];
}

function metricsServer(cluster: LoadedCluster): object[] {
  const app: App = { name: 'metrics-server', namespace: NAMESPACE, component: 'metrics', partOf: 'metrics-server', version: tagOf(IMAGES.metricsServer) };
  // Only `kubectl top` and autoscaling pause while a single replica restarts; small clusters keep one.
  const replicas = workers(cluster.config).length >= 3 ? 2 : 1;
  const objects: object[] = [
    serviceAccount(app),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: clusterMeta(app, 'system:aggregated-metrics-reader', {
        labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' },
      }),
      rules: [rule(['metrics.k8s.io'], ['pods', 'nodes'], READ)],
    },
    ...clusterAccess(app, [rule([''], ['nodes/metrics'], 'get'), rule([''], ['pods', 'nodes'], READ)], { name: 'system:metrics-server' }),
    bindExisting(app, { kind: 'ClusterRole', name: 'system:auth-delegator' }, { cluster: true, name: 'metrics-server:system:auth-delegator' }),
    // The API server's client CA lives in kube-system; reading it is what lets metrics-server authenticate requests.
    bindExisting(app, { kind: 'Role', name: 'extension-apiserver-authentication-reader' }, { namespace: 'kube-system', name: 'metrics-server-auth-reader' }),
    service(app, { ports: [{ name: 'https', port: 443, appProtocol: 'https' }] }),
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: clusterMeta(app, 'v1beta1.metrics.k8s.io'),
      spec: {
        service: { name: app.name, namespace: NAMESPACE },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        // metrics-server serves a self-signed certificate to the API server; kubelet certificates are verified.
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
    deployment(app, {
      replicas,
      ...(replicas === 1 ? { annotations: { [ANNOTATIONS.singleReplicaReason]: 'only kubectl top and autoscaling pause while it restarts' } } : {}),
      pod: {
        serviceAccount: app.name,
        security: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'metrics-server',
            image: IMAGES.metricsServer,
            goMemoryLimit: true,
            args: ['--cert-dir=/tmp', '--secure-port=10250', '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', '--kubelet-use-node-status-port', '--metric-resolution=15s'],
            ports: { https: 10250 },
            resources: { cpu: '50m', memory: '96Mi', memoryLimit: '320Mi' },
            readiness: httpProbe('/readyz', 'https', { scheme: 'HTTPS', initialDelaySeconds: 20 }),
            liveness: httpProbe('/livez', 'https', { scheme: 'HTTPS' }),
            mounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
          }),
        ],
        volumes: [{ name: 'tmp-dir', emptyDir: {} }],
        spec: { priorityClassName: 'system-cluster-critical', nodeSelector: { 'kubernetes.io/os': 'linux' } },
      },
    }),
  ];
  if (replicas > 1) objects.push(disruptionBudget(app));
  return objects;
}

/** Resource metrics (`kubectl top`, autoscaling) with verified kubelet TLS. */
export function metrics(cluster: LoadedCluster): Component {
  const { nodeCidr } = cluster.config.network;
  const metricsPods = selectorLabels({ name: 'metrics-server', namespace: NAMESPACE });
  return {
    name: 'metrics-server',
    description: 'metrics-server and the kubelet serving-certificate approver it relies on',
    objects: [
      ...isolatedNamespace(NAMESPACE, 'restricted', { nodeCidr }),
      // The API server (host network on the control planes) calls metrics-server; it scrapes the kubelets.
      networkPolicy(NAMESPACE, 'metrics-server', {
        pods: metricsPods,
        ingress: [{ peers: [peers.cidr(nodeCidr)], ports: tcp(10250) }],
        egress: [{ peers: [peers.cidr(nodeCidr)], ports: tcp(10250) }],
      }),
      ...certApprover(),
      ...metricsServer(cluster),
    ],
  };
}


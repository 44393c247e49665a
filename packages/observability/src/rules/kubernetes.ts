import type { RuleGroup } from './model.ts';

const ksm = 'job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080"';
const ksmLabels = { job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080' };
const kubelet = 'job="kubelet",instance="10.0.0.11:10250",node="n1"';
// No per-volume alerts: local-path volumes are hostPath volumes, for which the kubelet reports no usage
// (kubelet_volume_stats_*) and which nothing holds to the claim's size. The filesystem under them is watched
// instead (NodeFilesystemAlmostFull/Full in nodes.ts, which covers local-path's mount).
const cert = (ttl: string): Array<[string, string]> => [[`kubelet_certificate_manager_server_ttl_seconds{${kubelet}}`, ttl]];

export const kubernetesRules: RuleGroup = {
  file: 'kubernetes',
  name: 'kubernetes',
  rules: [
    {
      alert: 'KubePodCrashLooping',
      expr: 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
      for: '15m',
      severity: 'warning',
      summary: '{{ $labels.namespace }}/{{ $labels.pod }} keeps crashing',
      description: 'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes.',
      fires: {
        series: [[`kube_pod_container_status_waiting_reason{${ksm},namespace="n8n",pod="n8n-worker-0",container="worker",reason="CrashLoopBackOff"}`, '1x30']],
        at: '20m',
        labels: [{ ...ksmLabels, namespace: 'n8n', pod: 'n8n-worker-0', container: 'worker', reason: 'CrashLoopBackOff' }],
      },
      quiet: { series: [[`kube_pod_container_status_waiting_reason{${ksm},namespace="n8n",pod="n8n-worker-0",container="worker",reason="CrashLoopBackOff"}`, '0x30']], at: '20m' },
    },
    {
      alert: 'KubeDeploymentReplicasMismatch',
      expr: 'kube_deployment_spec_replicas != kube_deployment_status_replicas_available',
      for: '15m',
      severity: 'warning',
      summary: '{{ $labels.namespace }}/{{ $labels.deployment }} is short of replicas',
      description: 'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not had all its replicas available for 15 minutes.',
      fires: {
        series: [
          [`kube_deployment_spec_replicas{${ksm},namespace="traefik",deployment="traefik"}`, '2x30'],
          [`kube_deployment_status_replicas_available{${ksm},namespace="traefik",deployment="traefik"}`, '1x30'],
        ],
        at: '20m',
        labels: [{ ...ksmLabels, namespace: 'traefik', deployment: 'traefik' }],
      },
      quiet: {
        series: [
          [`kube_deployment_spec_replicas{${ksm},namespace="traefik",deployment="traefik"}`, '2x30'],
          [`kube_deployment_status_replicas_available{${ksm},namespace="traefik",deployment="traefik"}`, '2x30'],
        ],
        at: '20m',
      },
    },
    {
      alert: 'KubeDaemonSetNotScheduled',
      expr: 'kube_daemonset_status_desired_number_scheduled - kube_daemonset_status_number_available > 0',
      for: '15m',
      severity: 'warning',
      summary: '{{ $labels.namespace }}/{{ $labels.daemonset }} is missing on some nodes',
      description: 'DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} has had nodes without an available pod for 15 minutes.',
      fires: {
        series: [
          [`kube_daemonset_status_desired_number_scheduled{${ksm},namespace="cilium",daemonset="cilium"}`, '4x30'],
          [`kube_daemonset_status_number_available{${ksm},namespace="cilium",daemonset="cilium"}`, '3x30'],
        ],
        at: '20m',
        labels: [{ ...ksmLabels, namespace: 'cilium', daemonset: 'cilium' }],
      },
      quiet: {
        series: [
          [`kube_daemonset_status_desired_number_scheduled{${ksm},namespace="cilium",daemonset="cilium"}`, '4x30'],
          [`kube_daemonset_status_number_available{${ksm},namespace="cilium",daemonset="cilium"}`, '4x30'],
        ],
        at: '20m',
      },
    },
    {
      alert: 'KubeletCertificateExpiresSoon',
      expr: 'kubelet_certificate_manager_server_ttl_seconds < 7 * 86400',
      severity: 'warning',
      problem: 'kubelet-certificate',
      summary: 'The kubelet serving certificate of {{ $labels.node }} expires within 7 days',
      description: 'The kubelet on {{ $labels.node }} has not renewed its serving certificate; check that the serving-certificate approver runs.',
      fires: { series: cert('500000x10'), at: '5m', labels: [{ job: 'kubelet', instance: '10.0.0.11:10250', node: 'n1' }] },
      quiet: { series: cert('2000000x10'), at: '5m' },
    },
    {
      alert: 'KubeletCertificateExpiring',
      expr: 'kubelet_certificate_manager_server_ttl_seconds < 86400',
      severity: 'critical',
      problem: 'kubelet-certificate',
      summary: 'The kubelet serving certificate of {{ $labels.node }} expires within a day',
      description: 'Once it expires, metrics-server, logs and exec on {{ $labels.node }} stop working.',
      fires: { series: cert('3600x10'), at: '5m', labels: [{ job: 'kubelet', instance: '10.0.0.11:10250', node: 'n1' }] },
      quiet: { series: cert('500000x10'), at: '5m' },
    },
    {
      alert: 'KubeAPIServerDown',
      expr: 'absent(up{job="apiserver"} == 1)',
      for: '5m',
      severity: 'critical',
      summary: 'The Kubernetes API server is unreachable',
      description: 'Prometheus has not scraped any API server for 5 minutes.',
      fires: { series: [['up{job="apiserver",instance="10.0.0.11:6443"}', '1 0x10']], at: '10m', labels: [{}] },
      quiet: { series: [['up{job="apiserver",instance="10.0.0.11:6443"}', '1x10']], at: '10m' },
    },
    {
      alert: 'KubeAPIErrorsHigh',
      expr: 'sum(rate(apiserver_request_total{code=~"5.."}[5m])) / sum(rate(apiserver_request_total[5m])) > 0.05',
      for: '10m',
      severity: 'warning',
      summary: 'The API server answers more than 5% of requests with errors',
      description: 'More than 5% of API requests have failed with a 5xx status for 10 minutes.',
      fires: {
        series: [
          ['apiserver_request_total{job="apiserver",code="200",verb="GET"}', '0+90x30'],
          ['apiserver_request_total{job="apiserver",code="500",verb="GET"}', '0+10x30'],
        ],
        at: '20m',
        labels: [{}],
      },
      quiet: {
        series: [
          ['apiserver_request_total{job="apiserver",code="200",verb="GET"}', '0+99x30'],
          ['apiserver_request_total{job="apiserver",code="500",verb="GET"}', '0+1x30'],
        ],
        at: '20m',
      },
    },
  ],
};

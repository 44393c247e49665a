import { TALOS_LOG_PORT } from '@groundwork/cluster';
import { AGENTS_NAMESPACE, NAMESPACE, PORTS } from '../names.ts';

/** Where the shipper keeps its read positions and its send queue on the node: a restart neither skips nor repeats lines. */
export const SHIPPER_STATE_DIR = '/var/lib/groundwork-log-shipper';
/** The kubelet's per-container log files: <namespace>_<pod>_<uid>/<container>/<restart>.log, in the CRI format. */
export const POD_LOGS = '/var/log/pods';
/** The stream fields every line carries in the log store: what a query selects on with {…}. */
export const CONTAINER_STREAM_FIELDS = ['namespace', 'pod', 'container', 'node'] as const;
export const TALOS_STREAM_FIELDS = ['service', 'node'] as const;

const resource = (name: string) => `resource["${name}"]`;
const move = (from: string, to: string) => ({ type: 'move', from, to });
const nodeName = { type: 'add', field: resource('node'), value: 'EXPR(env("NODE_NAME"))' };

/**
 * The OpenTelemetry Collector's configuration for the per-node log shipper. Container logs: the kubelet's files,
 * parsed by the collector's container parser (CRI lines, partial lines joined, namespace, pod and container from
 * the path). Talos's logs: the JSON lines machined sends to loopback (machine.logging and KmsgLogConfig), the
 * message as the line, Talos's time and level as the record's. Both go to VictoriaLogs over OTLP/HTTP, where
 * the resource attributes become the stream fields; the line is the log body, exactly as written.
 */
export function logShipperConfig(): Record<string, unknown> {
  return {
    extensions: {
      health_check: { endpoint: `\${env:NODE_IP}:${PORTS.logShipperHealth}` },
      file_storage: { directory: SHIPPER_STATE_DIR },
    },
    receivers: {
      filelog: {
        include: [`${POD_LOGS}/*/*/*.log`],
        // Its own lines would come back to it each time it logged a failure to send them.
        exclude: [`${POD_LOGS}/${AGENTS_NAMESPACE}_log-shipper-*/*/*.log`],
        start_at: 'beginning',
        include_file_path: true,
        include_file_name: false,
        // A line the runtime split (partial, P) may end in a space that belongs to it; trimming would glue words.
        preserve_trailing_whitespaces: true,
        storage: 'file_storage',
        operators: [
          { type: 'container', format: 'containerd', add_metadata_from_filepath: true },
          move(resource('k8s.namespace.name'), resource('namespace')),
          move(resource('k8s.pod.name'), resource('pod')),
          move(resource('k8s.container.name'), resource('container')),
          // A new pod or restart must not make a new stream: the pod name already tells them apart.
          { type: 'remove', field: resource('k8s.pod.uid') },
          { type: 'remove', field: resource('k8s.container.restart_count') },
          { type: 'remove', field: 'attributes["log.file.path"]' },
          nodeName,
        ],
      },
      'tcplog/talos': {
        listen_address: `127.0.0.1:${TALOS_LOG_PORT}`,
        operators: [
          {
            type: 'json_parser',
            timestamp: { parse_from: 'attributes["talos-time"]', layout_type: 'gotime', layout: '2006-01-02T15:04:05.999999999Z07:00' },
            severity: { parse_from: 'attributes["talos-level"]' },
          },
          move('attributes.msg', 'body'),
          // Kernel messages carry no service: they are the kernel's.
          { type: 'add', field: 'attributes["talos-service"]', value: 'kernel', if: 'attributes["talos-service"] == nil' },
          move('attributes["talos-service"]', resource('service')),
          { type: 'remove', field: 'attributes["talos-time"]' },
          { type: 'remove', field: 'attributes["talos-level"]' },
          nodeName,
        ],
      },
    },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 25 },
      batch: { send_batch_size: 1000, timeout: '2s' },
    },
    exporters: {
      otlphttp: {
        logs_endpoint: `http://victoria-logs.${NAMESPACE}.svc:${PORTS.victoriaLogs}/insert/opentelemetry/v1/logs`,
        // Queued on the node's disk while the store is away, and retried until it is back.
        sending_queue: { enabled: true, storage: 'file_storage' },
        retry_on_failure: { enabled: true, max_elapsed_time: 0 },
      },
    },
    service: {
      extensions: ['health_check', 'file_storage'],
      telemetry: {
        logs: { level: 'warn' },
        metrics: { readers: [{ pull: { exporter: { prometheus: { host: '${env:NODE_IP}', port: PORTS.logShipperMetrics } } } }] },
      },
      pipelines: { logs: { receivers: ['filelog', 'tcplog/talos'], processors: ['memory_limiter', 'batch'], exporters: ['otlphttp'] } },
    },
  };
}

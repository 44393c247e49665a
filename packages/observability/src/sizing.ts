import type { LoadedCluster } from '@groundwork/cluster';
import { parseQuantity } from '@groundwork/kube';

/**
 * How big Prometheus and Loki need to be, worked out from the nodes the cluster file declares; verify prints
 * what they buy. The series figures come from the rendered scrape configuration run by the real programs
 * (npm run bench:observability, docs/observability.md): node_exporter 530 per node, the API server 2,300,
 * kube-state-metrics 840 for the observability layer's own objects, Prometheus 920, etcd, the
 * controller-manager and the scheduler under 40 once only the catalog's names are kept. Per node: node_exporter
 * plus an estimate for what cannot run here (cAdvisor's four kept metrics per container and pod, the kubelet's
 * volume stats), 740, with a third on top. Cluster-wide: the API server doubled for a busy cluster's resources
 * and clients, kube-state-metrics tripled for the whole platform's objects, Prometheus, Alertmanager, with a
 * tenth on top.
 */
export const SERIES_PER_NODE = 1000;
export const CLUSTER_SERIES = 9000;
/** Head memory per active series (labels, two hours of chunks at a 30 s interval, index). */
const BYTES_PER_SERIES = 6 * 1024;
const BASE_MEMORY = 150 * 2 ** 20;
/** Compressed TSDB bytes per sample (Prometheus documents 1 to 2). */
const BYTES_PER_SAMPLE = 1.3;
export const SCRAPE_INTERVAL_SECONDS = 30;

const MI = 2 ** 20;
const roundUpMi = (bytes: number, step = 32) => Math.ceil(bytes / MI / step) * step;

export interface PrometheusSize {
  series: number;
  memoryRequest: string;
  memoryLimit: string;
  volumeSize: string;
  retentionTime: string;
  /** Prometheus's size limit: 80% of the volume, so compaction always has room. */
  retentionSize: string;
  bytesPerDay: number;
  /** Days of data the size limit holds at the estimated rate. */
  daysBySize: number;
}

export function prometheusSize(cluster: LoadedCluster): PrometheusSize {
  const { prometheus } = cluster.config.features.observability;
  const series = SERIES_PER_NODE * cluster.config.nodes.length + CLUSTER_SERIES;
  const request = roundUpMi(BASE_MEMORY + series * BYTES_PER_SERIES);
  const volumeBytes = parseQuantity(prometheus.volumeSize);
  const retentionBytes = Math.floor(volumeBytes * 0.8);
  const bytesPerDay = series * (86_400 / SCRAPE_INTERVAL_SECONDS) * BYTES_PER_SAMPLE;
  return {
    series,
    memoryRequest: `${request}Mi`,
    // Compaction and WAL replay after a restart briefly need about twice the steady state.
    memoryLimit: `${request * 2}Mi`,
    volumeSize: prometheus.volumeSize,
    retentionTime: prometheus.retention,
    retentionSize: `${Math.floor(retentionBytes / MI)}MB`,
    bytesPerDay,
    daysBySize: Math.floor(retentionBytes / bytesPerDay),
  };
}

export interface LogStoreSize {
  memoryRequest: string;
  memoryLimit: string;
  retention: string;
  volumeSize: string;
  /** VictoriaLogs drops its oldest days above this: 80% of the volume, so merges always have room. */
  maxDiskBytes: number;
}

/**
 * VictoriaLogs keeps little in memory (recent rows before a flush, caches it sizes itself from the limit it
 * sees): 16 MiB resident in the log test (logs.test.ts), plus room for each node's streams and for
 * queries.
 */
export function logStoreSize(cluster: LoadedCluster): LogStoreSize {
  const { logs } = cluster.config.features.observability;
  const request = roundUpMi((96 + 8 * cluster.config.nodes.length) * MI);
  return {
    memoryRequest: `${request}Mi`,
    memoryLimit: `${Math.max(384, request * 3)}Mi`,
    retention: logs.retention,
    volumeSize: logs.volumeSize,
    maxDiskBytes: Math.floor(parseQuantity(logs.volumeSize) * 0.8),
  };
}

import type { LoadedCluster } from '@groundwork/cluster';
import { PORTS } from '../names.ts';
import { durationHours, lokiSize } from '../sizing.ts';

export const LOKI_DATA = '/var/loki';

/**
 * Loki as one process on its own volume: filesystem storage, TSDB index, retention by the compactor, no
 * memcached (the chart's default cache alone asks for about 9.8 GiB), small embedded result cache.
 */
export function lokiConfig(cluster: LoadedCluster): Record<string, unknown> {
  const retention = durationHours(lokiSize(cluster).retention);
  return {
    auth_enabled: false,
    server: { http_listen_port: PORTS.loki, grpc_listen_port: 9095, log_level: 'warn' },
    common: {
      path_prefix: LOKI_DATA,
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
      storage: { filesystem: { chunks_directory: `${LOKI_DATA}/chunks`, rules_directory: `${LOKI_DATA}/rules` } },
    },
    schema_config: { configs: [{ from: '2024-01-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }] },
    limits_config: {
      retention_period: retention,
      reject_old_samples: true,
      reject_old_samples_max_age: retention,
      ingestion_rate_mb: 4,
      ingestion_burst_size_mb: 8,
      max_query_series: 5000,
      volume_enabled: true,
    },
    compactor: { working_directory: `${LOKI_DATA}/compactor`, retention_enabled: true, delete_request_store: 'filesystem', compaction_interval: '10m', retention_delete_delay: '2h' },
    query_range: { results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 32 } } } },
    pattern_ingester: { enabled: false },
    analytics: { reporting_enabled: false },
  };
}

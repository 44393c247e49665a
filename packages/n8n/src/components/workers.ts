import type { LoadedCluster } from '@groundwork/cluster';
import { workerArgs, workerEnv } from '../config/env.ts';
import { WORKER } from '../names.ts';
import { n8nProcess } from './process.ts';

/** Workers: each takes up to `concurrency` executions off the queue at a time. */
export function workers(cluster: LoadedCluster): object[] {
  return n8nProcess(WORKER, {
    container: 'worker',
    replicas: cluster.config.features.n8n.workers,
    singleReplicaReason: 'executions wait in the queue while the only worker restarts (raise features.n8n.workers for more)',
    args: workerArgs(cluster),
    env: workerEnv(cluster),
    // Manual executions run here too (offloaded from main), so workers get the most headroom.
    resources: { cpu: '200m', memory: '576Mi', memoryLimit: '1536Mi' },
  });
}

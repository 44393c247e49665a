import type { LoadedCluster } from '@groundwork/cluster';
import { service } from '@groundwork/kube';
import { mainEnv } from '../config/env.ts';
import { MAIN, PORTS } from '../names.ts';
import { n8nProcess } from './process.ts';

/** The main process: the editor, the REST and public APIs, triggers and schedules. */
export function main(cluster: LoadedCluster): object[] {
  return [
    service(MAIN, { ports: [{ name: 'http', port: PORTS.n8n }] }),
    ...n8nProcess(MAIN, {
      container: 'n8n',
      replicas: 1,
      strategy: 'Recreate',
      singleReplicaReason: 'n8n runs one main process without an Enterprise licence; while it restarts the editor and schedules pause, queued executions and webhooks carry on',
      args: ['start'],
      env: mainEnv(cluster),
      resources: { cpu: '200m', memory: '512Mi', memoryLimit: '1Gi' },
    }),
  ];
}

import { parseQuantity } from '@groundwork/kube';

export const VALKEY_DATA = '/data';
export const VALKEY_CONFIG_DIR = '/etc/valkey';

/**
 * valkey.conf. Bull, n8n's queue library, needs every key kept: `noeviction` makes a full Valkey refuse
 * writes (n8n logs it loudly) instead of silently dropping queued executions. Both persistence kinds are
 * on: the append-only file loses at most a second of jobs, the snapshots make restarts fast. The
 * password is not here: it comes from the Secret on the command line.
 */
export function valkeyConfig(memoryLimit: string): string {
  const maxmemoryMb = Math.floor((parseQuantity(memoryLimit) * 0.75) / 2 ** 20);
  return [
    '# Created by groundwork: Valkey as the n8n queue.',
    'bind * -::*',
    'port 6379',
    `dir ${VALKEY_DATA}`,
    'appendonly yes',
    'appendfsync everysec',
    'save 3600 1 300 100 60 10000',
    `maxmemory ${maxmemoryMb}mb`,
    'maxmemory-policy noeviction',
    'loglevel notice',
    '',
  ].join('\n');
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from '@groundwork/kit';
import { freePort, until } from '@groundwork/testkit/services';

/** A real etcd (Debian's etcd-server) on loopback, and etcdctl against it. */
export interface Etcd {
  endpoint: string;
  put(key: string, value: string): void;
  get(key: string): string;
  /** `etcdctl snapshot save` into `file` (the format the maintenance API streams, hash included). */
  snapshot(file: string): string;
  stop(): void;
  process: ChildProcess;
}

const etcdctl = (args: string[]) => {
  const result = execFile('etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' } });
  if (result.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${result.stderr.toString()}`);
  return result.stdout.toString();
};

export { etcdctl };

/** Starts etcd on `dataDir` (an existing data directory, e.g. one restored from a snapshot, is used as is). */
export async function startEtcd(dataDir: string, name = 'default'): Promise<Etcd> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const child = spawn('etcd', ['--name', name, '--data-dir', dataDir, '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint, '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `${name}=http://127.0.0.1:${peer}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log = `${log}${c.toString()}`.slice(-4000)));
  await until('etcd to answer', 30_000, () => {
    if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${log}`);
    return execFile('etcdctl', ['--endpoints', endpoint, 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' } }).status === 0 ? true : undefined;
  });
  return {
    endpoint,
    process: child,
    put: (key, value) => void etcdctl(['--endpoints', endpoint, 'put', key, value]),
    get: (key) => etcdctl(['--endpoints', endpoint, 'get', key, '--print-value-only']).trim(),
    snapshot: (file) => {
      etcdctl(['--endpoints', endpoint, 'snapshot', 'save', file]);
      return file;
    },
    stop: () => void child.kill('SIGTERM'),
  };
}

/** `etcdctl snapshot restore` into a new data directory, as a recovery would, and its name. */
export function restoreSnapshot(file: string, dir: string): string {
  const dataDir = join(dir, 'restored');
  etcdctl(['snapshot', 'restore', file, '--data-dir', dataDir, '--name', 'default', '--initial-cluster', 'default=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
  return dataDir;
}

import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { loadCluster, type LoadedCluster } from '@groundwork/cluster';
import { allObjects, kubeLayerMain, readRenderedLayer, renderComponents, type KubeObject } from '@groundwork/kube';
import { components as platformComponents } from '@groundwork/platform-core';
import { main as generateTalos } from '@groundwork/talos-config/generate';
import { decryptManifest, sopsSecretSource } from '@groundwork/secrets-sops';
import { runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import type { Runtime } from '@groundwork/testkit/pods';
import { postgresBin, type Postgres } from '@groundwork/testkit/services';
import { startClusterControlPlane, startPodRunner, type ClusterControlPlane, type PodRunner } from '@groundwork/testkit/kube';
import { N8N_SECRETS, n8nLayer } from '@groundwork/n8n';
import { S3Client } from '../src/runner/s3.ts';
import { SECRETS } from '../src/names.ts';
import { startTestStore, type TestStore } from './s3.ts';
import { main as generateDr } from '../src/generate.ts';
import { IMAGES, IMAGE_USERS } from '../src/versions.ts';

/**
 * The dr layer rendered for a test: the pi-fleet example in a scratch copy of the workspace, its bucket
 * pointed at the test's store, rendered by the real generate scripts (Talos's machine configs too, for the
 * cluster's own control plane), read back with its Secrets decrypted in memory, and its pods run with real
 * programs by the testkit's pod runner.
 */

const repo = join(import.meta.dirname, '..', '..', '..');
export const CLUSTER = 'pi-fleet';

export interface Rendered {
  ws: ScratchWorkspace;
  cluster: LoadedCluster;
  /** The dr layer's objects and decrypted Secrets. */
  dr: KubeObject[];
  /** The n8n layer's objects and decrypted Secrets. */
  n8n: KubeObject[];
}

async function read(root: string, cluster: LoadedCluster, layer: string): Promise<KubeObject[]> {
  const rendered = readRenderedLayer(root, cluster.name, layer);
  if (!rendered) throw new Error(`${layer} is not rendered`);
  const secrets = await Promise.all(rendered.secrets.map((s) => decryptManifest(s.data, cluster, `${s.namespace}/${s.name}`)));
  return [...allObjects(rendered), ...secrets];
}

/** Renders n8n and dr for pi-fleet with its cluster file edited first. */
export async function renderPiFleet(edit: (text: string) => string): Promise<Rendered> {
  const ws = scratchWorkspace({}, {
    n8n: `export { default } from ${JSON.stringify(join(repo, 'packages/n8n/src/secrets.ts'))};\n`,
    dr: `export { default } from ${JSON.stringify(join(repo, 'packages/dr/src/secrets.ts'))};\n`,
    // The apps' database passwords, which dr's dump jobs read copies of.
    apps: `export { default } from ${JSON.stringify(join(repo, 'packages/apps/src/secrets.ts'))};\n`,
  });
  cpSync(join(repo, 'clusters', CLUSTER), join(ws.root, 'clusters', CLUSTER), { recursive: true, filter: (src) => !src.includes('/rendered') });
  cpSync(join(repo, '.sops.yaml'), join(ws.root, '.sops.yaml'));
  const file = join(ws.root, 'clusters', CLUSTER, 'cluster.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  for (const generate of [generateTalos, kubeLayerMain('generate', n8nLayer, sopsSecretSource), generateDr]) {
    const result = await runIn(ws.root, generate, [`--cluster=${CLUSTER}`]);
    expect(result.code, result.stderr).toBe(0);
  }
  const cluster = loadCluster(ws.root, CLUSTER);
  return { ws, cluster, dr: await read(ws.root, cluster, 'dr'), n8n: await read(ws.root, cluster, 'n8n') };
}

/** pi-fleet's bucket moved to the test store, plus a volume target. */
export const toTestStore = (endpoint: string) => (text: string) =>
  text.replace('endpoint: https://s3.eu-central-003.backblazeb2.com', `endpoint: ${endpoint}`).replace('  dr:\n    enabled: true\n', '  dr:\n    enabled: true\n    volume: { size: 5Gi }\n');

export function secretValue(objects: KubeObject[], namespace: string, name: string, key: string): string {
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name && o.metadata.namespace === namespace);
  const data = (secret?.data ?? {}) as Record<string, string>;
  const stringData = (secret?.stringData ?? {}) as Record<string, string>;
  const value = stringData[key] ?? (data[key] !== undefined ? Buffer.from(data[key]!, 'base64').toString('utf8') : undefined);
  if (value === undefined) throw new Error(`no Secret ${namespace}/${name} with key ${key}`);
  return value;
}

/** The pod spec of a rendered CronJob or Job. */
export function podSpecOf(objects: KubeObject[], kind: 'CronJob' | 'Job', name: string): Record<string, unknown> {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`no ${kind} ${name}`);
  const spec = object.spec as { jobTemplate?: { spec: { template: { spec: Record<string, unknown> } } }; template?: { spec: Record<string, unknown> } };
  return (spec.jobTemplate?.spec ?? spec).template!.spec;
}

/**
 * What each image provides on this machine: Node 24 for the runner, Debian's PostgreSQL programs for the
 * PostgreSQL image, the npm-installed n8n (mounted where any user can read it) for the n8n image.
 */
/** The workspace's Node 24 (the npm `node` package), whatever Node runs the tests: the images run Node 24. */
export const NODE = createRequire(import.meta.url).resolve('node/bin/node');

export function runtimes(options: { n8nInstall?: string } = {}): (image: string) => Runtime {
  // Mounted where an image keeps its programs: the pods mount their work folder at /work, over this repository.
  const node = { host: dirname(NODE), path: '/opt/node/bin', readOnly: true };
  return (image) => {
    if (image === IMAGES.runner) return { path: [node.path], mounts: [node], user: { uid: IMAGE_USERS.runner, gid: IMAGE_USERS.runner, name: 'node' } };
    if (image === IMAGES.postgres) return { path: [postgresBin()], user: { uid: IMAGE_USERS.postgres, gid: IMAGE_USERS.postgres, name: 'postgres' }, env: { LANG: 'C.UTF-8' } };
    if (image === IMAGES.n8n) {
      if (!options.n8nInstall) throw new Error('this test has no n8n install for the n8n image');
      const bin = scratchDir('gw-n8n-bin-');
      writeFileSync(join(bin, 'n8n'), '#!/bin/sh\nexec node /opt/n8n/node_modules/n8n/bin/n8n "$@"\n');
      chmodSync(bin, 0o755);
      chmodSync(join(bin, 'n8n'), 0o755);
      return { path: ['/opt/n8n-bin', node.path], mounts: [node, { host: options.n8nInstall, path: '/opt/n8n', readOnly: true }, { host: bin, path: '/opt/n8n-bin', readOnly: true }], user: { uid: IMAGE_USERS.n8n, gid: IMAGE_USERS.n8n, name: 'node' } };
    }
    throw new Error(`no runtime for image ${image}`);
  };
}

/** A folder standing in for the volume target's claim, writable by the jobs' users. */
export function claimFolder(): string {
  const dir = scratchDir('gw-dr-volume-');
  chmodSync(dir, 0o777);
  return dir;
}

/** Pods the dr layer's jobs start: in its own namespace and in drills' scratch namespaces (dr-drill-…). */
const DR_PODS = "self.metadata.namespace == 'dr' || self.metadata.namespace.startsWith('dr-drill-')";

export interface LiveCluster {
  plane: ClusterControlPlane;
  runner: PodRunner;
}

/**
 * pi-fleet's own control plane (from its rendered Talos config, with kwok nodes shaped like its Raspberry Pis),
 * with platform-core's StorageClass in place, and the dr layer's pods run for real by a pod runner (kwok runs
 * everything else).
 */
export async function liveCluster(rendered: Rendered, options: { runtimeFor: (image: string) => Runtime; claims?: Record<string, string>; overrides?: (pod: KubeObject) => Record<string, Record<string, string>> }): Promise<LiveCluster> {
  const plane = await startClusterControlPlane(rendered.ws.root, rendered.cluster, { kwok: { provisionFor: ['local-path'], leavePods: [{ cel: { expression: `!(${DR_PODS})` } }] } });
  const storageClass = allObjects({ components: renderComponents('platform-core', rendered.cluster, platformComponents(rendered.cluster)) }).find((o) => o.kind === 'StorageClass')!;
  await plane.client.apply(storageClass, 'groundwork-platform-core');
  const runner = startPodRunner({ client: plane.client, owns: (pod) => pod.metadata.namespace === 'dr' || pod.metadata.namespace!.startsWith('dr-drill-'), ...options });
  return { plane, runner };
}

export interface Backdrop {
  store: TestStore;
  rendered: Rendered;
  /** A client of the store with the cluster's own bucket key. */
  client: S3Client;
  /** The folder standing in for the volume target. */
  volume: string;
}

/**
 * A test store that accepts exactly the bucket key of the example cluster (decrypted from its SOPS Secret),
 * and pi-fleet rendered with its bucket moved there and a volume target added.
 */
export async function storeAndRender(): Promise<Backdrop> {
  const probe = await renderPiFleet((t) => t);
  const credentials = { accessKeyId: secretValue(probe.dr, 'dr', SECRETS.s3.name, SECRETS.s3.accessKeyId), secretAccessKey: secretValue(probe.dr, 'dr', SECRETS.s3.name, SECRETS.s3.secretAccessKey) };
  const store = await startTestStore({ bucket: 'pi-fleet-backups', credentials, region: 'eu-central-003' });
  const rendered = await renderPiFleet(toTestStore(store.endpoint));
  const client = new S3Client({ endpoint: store.endpoint, region: 'eu-central-003', bucket: 'pi-fleet-backups', pathStyle: true, ...credentials });
  return { store, rendered, client, volume: claimFolder() };
}

/** n8n's role (with the rendered password) and database on a test PostgreSQL, as the n8n layer's init script makes them. */
export function n8nDatabase(pg: Postgres, rendered: Rendered): string {
  const password = secretValue(rendered.n8n, 'n8n', N8N_SECRETS.postgres.name, N8N_SECRETS.postgres.n8n);
  for (const sql of [`create role n8n login password '${password}'`, 'create database n8n owner n8n']) {
    const result = pg.run(['psql', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
    expect(result.status, result.stderr).toBe(0);
  }
  return password;
}

/** Timings of a test's steps, printed once at the end (they are the figures docs/dr.md quotes). */
export function stopwatch(title: string) {
  const timings: Array<[string, number]> = [];
  return {
    async timed<T>(what: string, work: () => Promise<T>): Promise<T> {
      const started = performance.now();
      const value = await work();
      timings.push([what, performance.now() - started]);
      return value;
    },
    print(): void {
      if (timings.length) process.stderr.write(`${title}:\n${timings.map(([w, ms]) => `  ${w.padEnd(44)} ${(ms / 1000).toFixed(1)}s`).join('\n')}\n`);
    },
  };
}

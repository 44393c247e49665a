import { chmodSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadTalosSecrets, type SecretsBundle } from '@groundwork/talos-config';
import { FakeTalosNode, sharedState } from '@groundwork/talos-config/test/fake-talos';
import { issue } from '@groundwork/talos-config/test/certs';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { runPod, type PodRun } from '@groundwork/testkit/pods';
import type { KubeObject } from '@groundwork/kube';
import { main as gwDr } from './dr-cli.ts';
import type { S3Client } from './runner/s3.ts';
import { CLUSTER, podSpecOf, runtimes, storeAndRender, type Rendered } from '../test/harness.ts';
import { etcdctl, restoreSnapshot, startEtcd, type Etcd } from '../test/etcd.ts';
import type { TestStore } from '../test/s3.ts';

/**
 * etcd snapshots end to end: a real etcd's snapshot, streamed by a Talos API stand-in (gRPC over mutual TLS,
 * Talos's role checks) to the rendered etcd-snapshot CronJob's pod, which reaches it as talos.default with the
 * talosconfig Talos would have written for its ServiceAccount; encrypted and stored; fetched back with gw-dr;
 * then restored by etcdctl into a new data directory that a real etcd serves.
 */
describe('etcd snapshots through the Talos API, from the rendered job to a restored etcd', () => {
  const dir = scratchDir('gw-dr-etcd-');
  chmodSync(dir, 0o711);
  let etcd: Etcd;
  let store: TestStore;
  let rendered: Rendered;
  let talos: FakeTalosNode;
  let bundle: SecretsBundle;
  let client: S3Client;
  let volume: string;
  let env: NodeJS.ProcessEnv;
  const snapshots = async () => (await client.list(`${CLUSTER}/etcd/`)).map((o) => o.key);

  /** The Secret Talos writes for a talos.dev ServiceAccount: a talosconfig whose certificate carries `roles`. */
  const talosSecret = (roles: string[]): KubeObject => {
    const cert = issue(bundle.certs.os, ['talos'], { organization: roles, extKeyUsage: ['clientAuth'] });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const config = stringify({ context: 'default', contexts: { default: { endpoints: [`talos.default:${talos.port}`], ca: b64(bundle.certs.os.crt), crt: b64(cert.crt), key: b64(cert.key) } } });
    return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'etcd-snapshot', namespace: 'dr' }, data: { config: b64(config) } };
  };
  const runJob = (roles: string[], name: string): Promise<PodRun> =>
    runPod({
      pod: podSpecOf(rendered.dr, 'CronJob', 'etcd-snapshot'),
      namespace: 'dr',
      objects: [...rendered.dr, talosSecret(roles)],
      runtimeFor: runtimes(),
      claims: { backups: volume },
      // Cluster DNS: the talos Service in the default namespace, in front of the control planes' apid.
      hosts: { 'talos.default': '127.0.0.1' },
      scratch: join(dir, name),
    });

  beforeAll(async () => {
    etcd = await startEtcd(join(dir, 'etcd'));
    etcd.put('/registry/namespaces/n8n', 'the n8n namespace');
    ({ store, rendered, client, volume } = await storeAndRender());
    const secrets = await loadTalosSecrets(rendered.ws.root, rendered.cluster);
    if ('problem' in secrets) throw new Error(secrets.problem);
    bundle = secrets.bundle;
    // pi-cp-1 as it answers both from inside the cluster (talos.default) and from the workstation (its address).
    talos = new FakeTalosNode({ name: 'pi-cp-1', ip: '192.168.1.21', controlPlane: true, talosVersion: 'v1.13.9', dnsNames: ['talos', 'talos.default'] }, bundle, sharedState(), () => '', 'configured');
    talos.snapshot = { bytes: () => readFileSync(etcd.snapshot(join(dir, `etcd-${Date.now()}.snapshot`))) };
    await talos.start();
    env = isolatedEnv(scratchDir('gw-dr-home-'), { GROUNDWORK_DR_VOLUME: volume, GROUNDWORK_ADDRESS_MAP: `192.168.1.21:50000=127.0.0.1:${talos.port}` });
  }, 300_000);

  afterAll(async () => {
    await talos?.stop();
    await store?.stop();
    etcd?.stop();
  });

  it('the etcd-snapshot job takes the snapshot with the etcd:backup role only, checks, encrypts and stores it', async () => {
    const run = await runJob(['os:etcd:backup'], 'job');
    expect(run.phase, run.containers[0]!.log).toBe('Succeeded');
    expect(talos.snapshotCallers).toEqual([['os:etcd:backup']]);
    expect(run.containers[0]!.log).toMatch(/taking an etcd snapshot through the Talos API at talos\.default:\d+/);
    expect(run.containers[0]!.log).toMatch(/checked etcd snapshot, \d+ bytes, 4096-byte pages, SHA-256 intact/);
    const [key] = await snapshots();
    expect(key).toMatch(/^pi-fleet\/etcd\/pi-fleet-etcd-\d{8}T\d{6}Z\.db\.age$/);
    expect(readdirSync(join(volume, CLUSTER, 'etcd'))).toEqual([key!.split('/').pop()]);
  });

  it('fetches it back with gw-dr, and etcdctl restores it into an etcd that serves the data', async () => {
    const out = join(dir, 'db.snapshot');
    const fetched = await runIn(rendered.ws.root, gwDr, ['fetch', 'etcd', `--cluster=${CLUSTER}`, `--out=${out}`], env);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8'))).toMatchObject({ kind: 'etcd', target: 's3://pi-fleet-backups' });
    expect(etcdctl(['snapshot', 'status', out, '-w', 'json'])).toMatch(/"totalKey":\d+/);
    const restored = await startEtcd(restoreSnapshot(out, join(dir, 'recovery')));
    try {
      expect(restored.get('/registry/namespaces/n8n')).toBe('the n8n namespace');
    } finally {
      restored.stop();
    }
  });

  it('fails the job and stores nothing when the stream breaks, the snapshot is cut short, or the role is not allowed', async () => {
    const before = await snapshots();
    const good = talos.snapshot!.bytes;
    talos.snapshot = { bytes: good, fault: 'abort' };
    const aborted = await runJob(['os:etcd:backup'], 'abort');
    expect(aborted.phase).toBe('Failed');
    expect(aborted.containers[0]!.log).toMatch(/error: EtcdSnapshot on talos\.default: gRPC status 14: etcd: connection lost/);
    talos.snapshot = { bytes: () => good().subarray(0, 4096 * 3) };
    const cut = await runJob(['os:etcd:backup'], 'cut');
    expect(cut.phase).toBe('Failed');
    expect(cut.containers[0]!.log).toMatch(/error: \/work\/etcd\.snapshot: /);
    talos.snapshot = { bytes: good };
    const reader = await runJob(['os:reader'], 'reader');
    expect(reader.phase).toBe('Failed');
    expect(reader.containers[0]!.log).toMatch(/gRPC status 7: role os:reader is not allowed/);
    expect(await snapshots()).toEqual(before);
  });

  it('takes one from the workstation on demand with the admin talosconfig, encrypted into a folder', async () => {
    const folder = join(dir, 'on-demand');
    const result = await runIn(rendered.ws.root, gwDr, ['etcd-snapshot', `--cluster=${CLUSTER}`, `--out=${folder}`], env);
    expect(result.code, result.stderr).toBe(0);
    expect(talos.snapshotCallers.at(-1)).toEqual(['os:admin']);
    const [file] = readdirSync(folder);
    expect(file).toMatch(/^pi-fleet-etcd-\d{8}T\d{6}Z\.db\.age$/);
    expect(readFileSync(join(folder, file!)).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(result.stderr).toContain(`from pi-cp-1`);
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir } from '@groundwork/testkit';
import { main as gwDr } from '../dr-cli.ts';
import { renderPiFleet } from '../../test/harness.ts';
import { S3Client, S3Error, sign, uriEncode } from './s3.ts';
import { startTestStore, type TestStore } from '../../test/s3.ts';

const credentials = { accessKeyId: 'GWTESTKEY0001', secretAccessKey: 'gw-test-secret/with+chars' };

describe('the S3 client against an S3 store that checks signatures', () => {
  const dir = scratchDir('gw-dr-s3-');
  let store: TestStore;
  let client: S3Client;

  beforeAll(async () => {
    store = await startTestStore({ bucket: 'backups', credentials, region: 'eu-central-003' });
    client = new S3Client({ endpoint: store.endpoint, region: 'eu-central-003', bucket: 'backups', pathStyle: true, ...credentials });
  });
  afterAll(() => store?.stop());

  it('puts, heads, lists, gets and deletes objects, every request signed as AWS\'s own signer signs it', async () => {
    const file = join(dir, 'object.bin');
    writeFileSync(file, Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 256)));
    await client.putFile('lab/postgres/lab-postgres-20261130T013000Z.dump.age', file);
    await client.putFile('lab/etcd/lab-etcd-20261130T000000Z.db.age', file);
    expect(await client.head('lab/postgres/lab-postgres-20261130T013000Z.dump.age')).toEqual({ key: 'lab/postgres/lab-postgres-20261130T013000Z.dump.age', size: 300_000 });
    expect(await client.head('lab/postgres/missing')).toBeUndefined();
    expect((await client.list('lab/postgres/')).map((o) => o.key)).toEqual(['lab/postgres/lab-postgres-20261130T013000Z.dump.age']);
    expect((await client.list('lab/')).map((o) => o.key).sort()).toEqual(['lab/etcd/lab-etcd-20261130T000000Z.db.age', 'lab/postgres/lab-postgres-20261130T013000Z.dump.age']);
    await client.getFile('lab/etcd/lab-etcd-20261130T000000Z.db.age', join(dir, 'back.bin'));
    expect(readFileSync(join(dir, 'back.bin')).equals(readFileSync(file))).toBe(true);
    await client.delete('lab/etcd/lab-etcd-20261130T000000Z.db.age');
    expect(await client.list('lab/etcd/')).toEqual([]);
    expect(store.refused).toEqual([]);
    expect(store.requests).toContain('PUT /backups/lab/postgres/lab-postgres-20261130T013000Z.dump.age');
  });

  it('is refused with the store\'s own error when the key is wrong, and says which call failed', async () => {
    const wrong = new S3Client({ ...client.config, secretAccessKey: 'not-the-secret' });
    const error = (await wrong.list('lab/').catch((e: unknown) => e)) as S3Error;
    expect(error).toBeInstanceOf(S3Error);
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/^S3 GET 127\.0\.0\.1:\d+\/backups: SignatureDoesNotMatch/);
    const missing = new S3Client({ ...client.config, bucket: 'no-such-bucket' });
    await expect(missing.list('')).rejects.toThrow(/NoSuchBucket/);
    const gone = new S3Client({ ...client.config, endpoint: 'http://127.0.0.1:1' });
    await expect(gone.list('')).rejects.toThrow(/^S3 GET 127\.0\.0\.1:1\/backups: connect ECONNREFUSED/);
  });

  it('tries again when the store drops a connection or is busy, and gives up after three tries', async () => {
    store.faults.push('reset', 503);
    expect(await client.list('lab/')).toEqual([{ key: 'lab/postgres/lab-postgres-20261130T013000Z.dump.age', size: 300_000 }]);
    store.faults.push(503, 500, 503);
    await expect(client.list('lab/')).rejects.toThrow(/: SlowDown: try again$/);
    // A refusal of the request itself is final: no second try.
    const wrong = new S3Client({ ...client.config, secretAccessKey: 'not-the-secret' });
    const before = store.refused.length;
    await expect(wrong.head('lab/x')).rejects.toThrow();
    expect(store.refused.length).toBe(before + 1);
  });

  it('addresses a bucket in the host name when path style is off', () => {
    const hosted = new S3Client({ ...client.config, endpoint: 'https://s3.eu-central-003.backblazeb2.com', pathStyle: false });
    expect(hosted.url('a/b.age').href).toBe('https://backups.s3.eu-central-003.backblazeb2.com/a/b.age');
    expect(client.url('a/b.age').href).toBe(`${store.endpoint}/backups/a/b.age`);
  });

  it('matches the example signature of the AWS Signature Version 4 documentation', () => {
    // The GET Object example of the S3 SigV4 documentation: its well-known key, date, headers and signature.
    const headers = sign(
      { region: 'us-east-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      { method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), headers: { range: 'bytes=0-9' }, payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', now: new Date('2013-05-24T00:00:00Z') },
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    expect(uriEncode('a b/ü+', true)).toBe('a%20b/%C3%BC%2B');
  });
});

describe('a store on the LAN with a private CA (features.dr.s3.caFile)', () => {
  it('is refused without the CA and reached with it', async () => {
    const dir = scratchDir('gw-dr-ca-');
    const openssl = (args: string[]) => {
      const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(result.stderr);
    };
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=NAS private CA']);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'nas.key', '-out', 'nas.csr', '-subj', '/CN=nas.lan']);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'nas.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'nas.pem', '-days', '2', '-extfile', 'san.ext']);
    const store = await startTestStore({ bucket: 'backups', credentials, tls: { cert: readFileSync(join(dir, 'nas.pem'), 'utf8'), key: readFileSync(join(dir, 'nas.key'), 'utf8') } });
    try {
      const config = { endpoint: store.endpoint, region: 'us-east-1', bucket: 'backups', pathStyle: true, ...credentials };
      const error = (await new S3Client(config).list('lab/').catch((e: unknown) => e)) as S3Error;
      expect(error).toBeInstanceOf(S3Error);
      expect(error.message).toMatch(/self.signed|unable to (get|verify)|certificate/i);
      expect(await new S3Client({ ...config, ca: readFileSync(join(dir, 'ca.pem'), 'utf8') }).list('lab/')).toEqual([]);
    } finally {
      await store.stop();
    }
  });
});

describe('gw-dr when the store cannot be reached', () => {
  it('says what to check instead of printing a stack trace', async () => {
    const rendered = await renderPiFleet((t) => t.replace('endpoint: https://s3.eu-central-003.backblazeb2.com', 'endpoint: https://backups.nonexistent.invalid'));
    const result = await runIn(rendered.ws.root, gwDr, ['list', '--cluster=pi-fleet'], isolatedEnv(scratchDir('gw-dr-home-')));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/S3 GET backups\.nonexistent\.invalid.*(ENOTFOUND|EAI_AGAIN)/);
    expect(result.stderr).toContain('hint: check features.dr.s3.endpoint, that it resolves and is reachable from this machine');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});

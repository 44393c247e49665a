import { existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { execFile } from '@groundwork/kit';
import { scratchDir } from '@groundwork/testkit';
import { BackupCryptoError, decryptFile, encryptFile } from './crypto.ts';
import { IntegrityError, checkEtcdSnapshot, checkN8nExport, checkPostgresDump, checkVolumeArchive } from './integrity.ts';
import { startEtcd, type Etcd } from '../../test/etcd.ts';

describe('etcd snapshots from a real etcd', () => {
  const dir = scratchDir('gw-dr-etcd-');
  let etcd: Etcd;
  let snapshot: string;

  beforeAll(async () => {
    etcd = await startEtcd(join(dir, 'etcd'));
    etcd.put('/registry/configmaps/default/probe', 'groundwork');
    snapshot = etcd.snapshot(join(dir, 'etcd.snapshot'));
  });
  afterAll(() => etcd?.stop());

  it('pass the integrity check: bbolt meta pages and the SHA-256 etcd appends', async () => {
    const result = await checkEtcdSnapshot(snapshot);
    expect(result.pageSize).toBe(4096);
    expect(result.bytes).toBe(readFileSync(snapshot).length);
  });

  it('fail it when cut short or changed, naming the file', async () => {
    const cut = join(dir, 'cut.snapshot');
    writeFileSync(cut, readFileSync(snapshot));
    truncateSync(cut, readFileSync(snapshot).length - 100);
    await expect(checkEtcdSnapshot(cut)).rejects.toThrow(`${cut}: `);
    const page = join(dir, 'page.snapshot');
    writeFileSync(page, readFileSync(snapshot).subarray(0, 4096 * 2 + 32));
    await expect(checkEtcdSnapshot(page)).rejects.toThrow(/does not match its content/);
    const flipped = join(dir, 'flipped.snapshot');
    const bytes = Buffer.from(readFileSync(snapshot));
    bytes[8192 + 17]! ^= 0x01;
    writeFileSync(flipped, bytes);
    await expect(checkEtcdSnapshot(flipped)).rejects.toThrow(IntegrityError);
    const other = join(dir, 'not-etcd');
    writeFileSync(other, Buffer.alloc(4096 * 3));
    await expect(checkEtcdSnapshot(other)).rejects.toThrow(/not an etcd snapshot/);
  });
});

describe('other backups\' own checks', () => {
  const dir = scratchDir('gw-dr-check-');

  it('recognise a pg_dump archive by its header', () => {
    writeFileSync(join(dir, 'good.dump'), Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(64)]));
    expect(checkPostgresDump(join(dir, 'good.dump')).bytes).toBe(69);
    writeFileSync(join(dir, 'plain.sql'), '-- PostgreSQL database dump\n');
    expect(() => checkPostgresDump(join(dir, 'plain.sql'))).toThrow(/not a pg_dump custom-format archive/);
  });

  it('accept n8n exports with encrypted credentials only', () => {
    const file = join(dir, 'n8n.json');
    const bundle = { format: 'groundwork.dev/n8n-export/v1', cluster: 'c', workflows: [{ id: 'w1', nodes: [] }], credentials: [{ id: 'c1', data: 'U2FsdGVkX1+abc' }] };
    writeFileSync(file, JSON.stringify(bundle));
    expect(checkN8nExport(file)).toMatchObject({ workflows: 1, credentials: 1 });
    writeFileSync(file, JSON.stringify({ ...bundle, credentials: [{ id: 'c1', data: { apiKey: 'plain' } }] }));
    expect(() => checkN8nExport(file)).toThrow(/credential c1 is not encrypted/);
  });
});

describe('volume archives made by the real tar', () => {
  const dir = scratchDir('gw-dr-tar-');
  const tar = (out: string, from: string) => expect(execFile('tar', ['--create', '--gzip', `--file=${out}`, `--directory=${from}`, '.']).status).toBe(0);

  it('pass whole, entries counted; fail cut short, not tar, or not gzip, naming the file', async () => {
    const source = join(dir, 'source');
    mkdirSync(join(source, 'sub'), { recursive: true });
    writeFileSync(join(source, 'big.bin'), randomBytes(200_000));
    writeFileSync(join(source, 'sub', 'small.txt'), 'x\n');
    const archive = join(dir, 'ok.tgz');
    tar(archive, source);
    expect(await checkVolumeArchive(archive)).toEqual({ bytes: readFileSync(archive).length, entries: 4 });

    const cut = join(dir, 'cut.tgz');
    writeFileSync(cut, readFileSync(archive).subarray(0, 100_000));
    await expect(checkVolumeArchive(cut)).rejects.toThrow(new RegExp(`${cut}: `));
    const notTar = join(dir, 'not-tar.tgz');
    writeFileSync(notTar, gzipSync(Buffer.alloc(4096, 65)));
    await expect(checkVolumeArchive(notTar)).rejects.toThrow(/wrong checksum: not a tar archive/);
    const notGzip = join(dir, 'plain.tgz');
    writeFileSync(notGzip, 'plain text');
    await expect(checkVolumeArchive(notGzip)).rejects.toThrow(IntegrityError);
  });
});

describe('age encryption of backup files', () => {
  const dir = scratchDir('gw-dr-age-');
  const plain = join(dir, 'backup.bin');
  let x25519: string;
  let hybrid: string;

  beforeAll(async () => {
    // More than one 64 KiB chunk, so the stream's chunking and final-chunk marking are exercised.
    writeFileSync(plain, Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251)));
    x25519 = await generateX25519Identity();
    hybrid = await generateHybridIdentity();
  });

  it('encrypts to X25519 and post-quantum recipients; the real age CLI decrypts the X25519 one', async () => {
    const encrypted = join(dir, 'backup.age');
    await encryptFile(plain, encrypted, [await identityToRecipient(x25519), await identityToRecipient(hybrid)]);
    expect(readFileSync(encrypted).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    writeFileSync(join(dir, 'key.txt'), `${x25519}\n`, { mode: 0o600 });
    const cli = execFile('age', ['--decrypt', '-i', join(dir, 'key.txt'), encrypted]);
    expect(cli.status, cli.stderr.toString()).toBe(0);
    expect(cli.stdout.equals(readFileSync(plain))).toBe(true);
    const back = join(dir, 'back.bin');
    await decryptFile(encrypted, back, [hybrid], 'backup.age');
    expect(readFileSync(back).equals(readFileSync(plain))).toBe(true);
  });

  it('decrypts what the age CLI encrypted', async () => {
    const recipient = await identityToRecipient(x25519);
    const encrypted = join(dir, 'cli.age');
    expect(execFile('age', ['-r', recipient, '-o', encrypted, plain]).status).toBe(0);
    await decryptFile(encrypted, join(dir, 'cli.bin'), [x25519], 'cli.age');
    expect(readFileSync(join(dir, 'cli.bin')).equals(readFileSync(plain))).toBe(true);
  });

  it('refuses another key\'s file, a cut one and a changed one, and leaves nothing behind', async () => {
    const encrypted = join(dir, 'refuse.age');
    await encryptFile(plain, encrypted, [await identityToRecipient(x25519)]);
    const out = join(dir, 'refused.bin');
    const error = await decryptFile(encrypted, out, [hybrid], 'refuse.age').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupCryptoError);
    expect((error as BackupCryptoError).reason).toBe('wrong-key');
    expect((error as Error).message).toBe("refuse.age is not encrypted to this cluster's key (none of its 1 identity opens it)");
    const bytes = readFileSync(encrypted);
    for (const [name, damaged] of [['cut', bytes.subarray(0, bytes.length - 1000)], ['flipped', Buffer.from(bytes).fill(0x41, 150_000, 150_001)]] as const) {
      writeFileSync(join(dir, `${name}.age`), damaged);
      const failure = await decryptFile(join(dir, `${name}.age`), out, [x25519], `${name}.age`).catch((e: unknown) => e);
      expect((failure as BackupCryptoError).reason, name).toBe('damaged');
      expect((failure as Error).message).toMatch(new RegExp(`^${name}\\.age is damaged or incomplete and was not restored`));
    }
    expect(existsSync(out)).toBe(false);
    expect(execFile('sh', ['-c', `ls -A ${dir} | grep partial`]).stdout.toString()).toBe('');
  });
});

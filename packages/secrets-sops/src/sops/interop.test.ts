import { createDecipheriv } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptSops } from 'sops-age';
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from '@groundwork/kit';
import { PgpKeyring, createKeyServices, encryptPlain, metadataFromMapping, openEncrypted, parseEncryptedValue, storeFor, type Format } from './index.ts';
import { AgeIdentities } from './keys/identities.ts';
import { ageGroup, freshKeys, PGP_FP, pgpGroup, type TestKeys } from '../../test/keys.ts';
import { requireTool } from '../../test/tools.ts';
import { fluxAgePqKeyFile, pgpKeyFiles, scratchDir, sopsFile } from '../../test/shared.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** AES-256-GCM with node:crypto alone, independent of the library's cipher code. */
function independentDecrypt(value: string, dataKey: Uint8Array, aad: string): string {
  const { data, iv, tag } = parseEncryptedValue(value);
  const decipher = createDecipheriv('aes-256-gcm', dataKey, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}

describe('files groundwork writes, read by independent implementations', () => {
  let keys: TestKeys;
  beforeAll(async () => {
    keys = await freshKeys();
  });

  for (const [format, sample, fileType] of [
    ['yaml', 'apiVersion: v1\nkind: Secret\nstringData:\n    token: abc123\n    port: 8080\n', 'yaml'],
    ['json', '{"token": "abc123", "nested": {"n": 3, "list": ["a", "b"]}}', 'json'],
    ['dotenv', 'TOKEN=abc123\nOTHER=value\n', 'env'],
  ] as const) {
    it(`sops-age (npm) decrypts our ${format} file to the same values`, async () => {
      const store = storeFor(format as Format);
      const file = await encryptPlain(enc.encode(sample), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services });
      const decrypted = await decryptSops(dec.decode(file), { fileType, secretKey: keys.x25519.identity });
      if (format === 'yaml') expect(decrypted).toEqual({ apiVersion: 'v1', kind: 'Secret', stringData: { token: 'abc123', port: 8080 } });
      if (format === 'json') expect(decrypted).toEqual({ token: 'abc123', nested: { n: 3, list: ['a', 'b'] } });
      if (format === 'dotenv') expect(decrypted).toEqual({ TOKEN: 'abc123', OTHER: 'value' });
    });
  }

  it('the real age CLI opens our age stanza, and its data key decrypts the values', async () => {
    const age = requireTool('age');
    const store = storeFor('yaml');
    const file = await encryptPlain(enc.encode('password: hunter2\n'), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services });
    const { branches, metadata } = store.loadEncrypted(file);
    const meta = metadataFromMapping(metadata);
    const stanza = meta.keyGroups[0]![0]!;
    if (stanza.type !== 'age') throw new Error('expected an age stanza');
    const stanzaFile = join(keys.dir, 'stanza.age');
    writeFileSync(stanzaFile, stanza.enc);
    const result = execFile(age, ['--decrypt', '--identity', keys.x25519.file, stanzaFile]);
    expect(result.stderr.toString()).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.length).toBe(32);
    expect(independentDecrypt(branches[0]!.get('password') as string, result.stdout, 'password:')).toBe('hunter2');
  });

  it('real gpg opens our PGP stanza, and its data key decrypts the values', async () => {
    const gpg = requireTool('gpg');
    const home = scratchDir('gw-gnupg-');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: home };
    const imported = execFile(gpg, ['--batch', '--import', pgpKeyFiles[0]!], { env });
    expect(imported.status).toBe(0);
    const store = storeFor('yaml');
    const file = await encryptPlain(enc.encode('password: hunter2\n'), store, store, { keyGroups: [pgpGroup()], services: keys.services });
    const { branches, metadata } = store.loadEncrypted(file);
    const stanza = metadataFromMapping(metadata).keyGroups[0]![0]!;
    if (stanza.type !== 'pgp') throw new Error('expected a PGP stanza');
    expect(stanza.fingerprint).toBe(PGP_FP);
    const result = execFile(gpg, ['--batch', '--quiet', '--decrypt'], { input: stanza.enc, env });
    expect(result.status).toBe(0);
    expect(result.stdout.length).toBe(32);
    expect(independentDecrypt(branches[0]!.get('password') as string, result.stdout, 'password:')).toBe('hunter2');
  });

  it('falls back to gpg like sops when no private key is loaded, and encrypts to a key exported from GnuPG', async () => {
    const gpg = requireTool('gpg');
    const home = scratchDir('gw-gnupg-');
    const env = { ...process.env, GNUPGHOME: home, SOPS_GPG_EXEC: gpg };
    expect(execFile(gpg, ['--batch', '--import', pgpKeyFiles[0]!], { env }).status).toBe(0);
    const previous = process.env.GNUPGHOME;
    process.env.GNUPGHOME = home;
    try {
      const pgp = await PgpKeyring.create({ env, useGpg: true });
      const services = { age: new AgeIdentities({ env: { HOME: home } }), pgp };
      const vector = await openEncrypted(sopsFile('vectors/sops-repo/functional-tests/format.enc.yaml'), storeFor('yaml'), services);
      expect(vector.branches[0]!.get('foo')).toBe('bar');
      const store = storeFor('json');
      const ours = await encryptPlain(enc.encode('{"k": "v"}'), store, store, { keyGroups: [pgpGroup()], services });
      expect((await openEncrypted(ours, store, services)).branches[0]!.get('k')).toBe('v');
    } finally {
      if (previous === undefined) delete process.env.GNUPGHOME;
      else process.env.GNUPGHOME = previous;
    }
  });

  it('a post-quantum recipient from the shared Flux key opens with that key file', async () => {
    const pqKeyFile = fluxAgePqKeyFile;
    const recipient = /# public key: (age1pq1\S+)/.exec(readFileSync(pqKeyFile, 'utf8'))![1]!;
    const store = storeFor('yaml');
    const file = await encryptPlain(enc.encode('stringData:\n    key: value\n'), store, store, { keyGroups: [ageGroup(recipient)], services: keys.services });
    const services = await createKeyServices({ env: { SOPS_AGE_KEY_FILE: pqKeyFile, HOME: keys.dir }, useGpg: false });
    expect((await openEncrypted(file, store, services)).branches[0]!.get('stringData')).toBeDefined();
  });
});

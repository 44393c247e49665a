import { beforeAll, describe, expect, it } from 'vitest';
import { codes, encryptPlain, openEncrypted, storeFor } from './index.ts';
import { ageGroup, freshKeys, type TestKeys } from '../../test/keys.ts';

const store = storeFor('yaml');
const enc = new TextEncoder();
const SECRET = 'correct-horse-battery';

describe('tampering is refused with a clear error and never yields plaintext', () => {
  let keys: TestKeys;
  let file: string;

  beforeAll(async () => {
    keys = await freshKeys();
    const plain = `password: ${SECRET}\nuser: admin\nnote_unencrypted: public\n`;
    file = new TextDecoder().decode(await encryptPlain(enc.encode(plain), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services }));
  });

  const open = (text: string) => openEncrypted(enc.encode(text), store, keys.services);

  async function expectRefused(text: string, code: number, message: RegExp) {
    const attempt = open(text);
    await expect(attempt).rejects.toMatchObject({ code });
    await expect(attempt).rejects.toThrowError(message);
    await attempt.catch((error: Error) => expect(error.message).not.toContain(SECRET));
  }

  it('the untouched file opens', async () => {
    const opened = await open(file);
    expect(opened.branches[0]!.get('password')).toBe(SECRET);
  });

  it('a changed ciphertext byte in a value', async () => {
    const tampered = file.replace(/^password: ENC\[AES256_GCM,data:(.)/m, (_m, c: string) => `password: ENC[AES256_GCM,data:${c === 'A' ? 'B' : 'A'}`);
    await expectRefused(tampered, codes.ErrorDecryptingTree, /Could not decrypt value: Could not decrypt with AES_GCM/);
  });

  it('two encrypted values swapped (each is bound to its key path)', async () => {
    const password = /^password: (ENC\[[^\n]+)$/m.exec(file)![1]!;
    const user = /^user: (ENC\[[^\n]+)$/m.exec(file)![1]!;
    const swapped = file.replace(`password: ${password}`, `password: ${user}`).replace(`user: ${user}`, `user: ${password}`);
    await expectRefused(swapped, codes.ErrorDecryptingTree, /Could not decrypt value/);
  });

  it('a changed plaintext value covered by the MAC', async () => {
    await expectRefused(file.replace('note_unencrypted: public', 'note_unencrypted: forged'), codes.MacMismatch, /^MAC mismatch\. File has [0-9A-F]{128}, computed [0-9A-F]{128}$/);
  });

  it('a damaged MAC', async () => {
    const tampered = file.replace(/(mac: ENC\[AES256_GCM,data:)(.)/, (_m, p: string, c: string) => `${p}${c === 'A' ? 'B' : 'A'}`);
    await expectRefused(tampered, codes.MacMismatch, /^Cannot decrypt MAC: /);
  });

  it('a changed lastmodified (the MAC is bound to it)', async () => {
    const tampered = file.replace(/lastmodified: "(\d{4})/, (_m, year: string) => `lastmodified: "${Number(year) - 1}`);
    await expectRefused(tampered, codes.MacMismatch, /^Cannot decrypt MAC: /);
  });

  it('a removed MAC', async () => {
    await expectRefused(file.replace(/^ {4}mac: ENC\[[^\n]+\n/m, ''), codes.MacMismatch, /^MAC mismatch\. File has no MAC, computed /);
  });

  it('a damaged age stanza', async () => {
    const tampered = file.replace(/(-----BEGIN AGE ENCRYPTED FILE-----\n\s+)(\S)/, (_m, p: string, c: string) => `${p}${c === 'Y' ? 'Z' : 'Y'}`);
    await expectRefused(tampered, codes.CouldNotRetrieveKey, /Failed to get the data key required to decrypt the SOPS file/);
  });

  it('a stanza for a recipient whose identity is not at hand', async () => {
    const other = await freshKeys();
    const foreign = new TextDecoder().decode(
      await encryptPlain(enc.encode(`password: ${SECRET}\n`), store, store, { keyGroups: [ageGroup(other.x25519.recipient)], services: other.services }),
    );
    await expectRefused(foreign, codes.CouldNotRetrieveKey, new RegExp(`${other.x25519.recipient}: FAILED\\n    - no age identity at hand matches this recipient`));
  });
});

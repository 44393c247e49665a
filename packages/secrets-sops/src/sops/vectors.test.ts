import { describe, expect, it } from 'vitest';
import { Comment, Mapping, Sequence, createKeyServices, encryptPlain, formatForPath, metadataFromMapping, openEncrypted, retrieveDataKey, storeFor, SopsError, codes, valuesEqual } from './index.ts';
import { ageGroup, freshKeys } from '../../test/keys.ts';
import { expectedVectors, fluxAgeKeyFile, pgpKeyFiles, plainJson, sopsFile } from '../../test/shared.ts';

/** Key services that know only the shared test keys: no GnuPG, no default keys.txt. */
async function testKeys() {
  return createKeyServices({ env: { SOPS_AGE_KEY_FILE: fluxAgeKeyFile, HOME: '/nonexistent' }, pgpFiles: pgpKeyFiles, useGpg: false });
}

describe('real sops-written vectors', () => {
  for (const vector of expectedVectors()) {
    it(`${vector.file} decrypts to its expected plaintext with the expected data key and MAC`, async () => {
      const store = storeFor(formatForPath(vector.file));
      const bytes = sopsFile(vector.file);
      const services = await testKeys();
      const metadata = metadataFromMapping(store.loadEncrypted(bytes).metadata);
      const dataKey = await retrieveDataKey(metadata, services);
      expect(Buffer.from(dataKey).toString('hex')).toBe(vector.dataKeyHex);

      const file = await openEncrypted(bytes, store, services);
      expect(file.mac.verified).toBe(true);
      expect(file.mac.computed).toBe(vector.mac);
      expect(file.branches).toHaveLength(1);
      expect(plainJson(file.branches[0]!)).toEqual(JSON.parse(vector.plaintext));
    });
  }

  it('refuses no_mac.yaml with sops\'s message and exit code, and opens it with ignoreMac', async () => {
    const store = storeFor('yaml');
    const bytes = sopsFile('vectors/sops-repo/functional-tests/no_mac.yaml');
    const services = await testKeys();
    const attempt = openEncrypted(bytes, store, services);
    await expect(attempt).rejects.toThrowError(/^MAC mismatch\. File has no MAC, computed [0-9A-F]{128}$/);
    await expect(attempt).rejects.toMatchObject({ code: codes.MacMismatch });
    const opened = await openEncrypted(bytes, store, services, { ignoreMac: true });
    expect(plainJson(opened.branches[0]!)).toEqual({ myapp1: 't00m4nys3cr3tzupdated' });
    expect(opened.mac.verified).toBe(false);
  });

  it('decrypts the encrypted comments back to the original comment text', async () => {
    const file = await openEncrypted(sopsFile('vectors/sops-repo/functional-tests/comments.enc.yaml'), storeFor('yaml'), await testKeys());
    const text = new TextDecoder().decode(storeFor('yaml').emitPlain(file.branches));
    expect(text).toBe('# first comment in file\nlorem: ipsum\n# this-is-a-comment\ndolor: sit\n');
  });

  it('reports which key could not be opened when no identity is at hand', async () => {
    const services = await createKeyServices({ env: { HOME: '/nonexistent' }, useGpg: false });
    const attempt = openEncrypted(sopsFile('vectors/flux/algorithms/age.yaml'), storeFor('yaml'), services);
    await expect(attempt).rejects.toBeInstanceOf(SopsError);
    await expect(attempt).rejects.toMatchObject({ code: codes.CouldNotRetrieveKey });
    await expect(attempt).rejects.toThrowError(/age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29: FAILED/);
  });
});

describe('the plaintext inputs of the sops functional tests', () => {
  /** Comments of a value: those of a mapping (top level) or of the sequence under `lorem`. */
  const comments = (doc: Mapping) => {
    const lorem = doc.get('lorem');
    const items = lorem instanceof Sequence ? lorem.items : doc.items;
    return items.filter((i): i is Comment => i instanceof Comment).map((c) => c.value);
  };
  const cases: Array<[string, string[]]> = [
    ['comments.yaml', [' first comment in file', ' this-is-a-comment']],
    ['comments_list.yaml', ['this-is-a-comment']],
    ['plainfile.yaml', []],
  ];
  for (const [name, expected] of cases) {
    it(`${name} survives encryption with its comments encrypted and back in place`, async () => {
      const keys = await freshKeys();
      const store = storeFor('yaml');
      const plain = sopsFile(`vectors/sops-repo/functional-tests/${name}`);
      const encrypted = await encryptPlain(plain, store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services });
      expect((new TextDecoder().decode(encrypted).match(/#ENC\[AES256_GCM,/g) ?? []).length).toBe(expected.length);
      const opened = await openEncrypted(encrypted, store, keys.services);
      expect(valuesEqual(opened.branches[0]!, store.loadPlain(plain)[0]!)).toBe(true);
      expect(comments(opened.branches[0]!)).toEqual(expected);
    });
  }
});

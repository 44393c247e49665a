import { beforeAll, describe, expect, it } from 'vitest';
import {
  createKeyServices,
  encryptPlain,
  openEncrypted,
  storeFor,
  valuesEqual,
  type Format,
} from './index.ts';
import { ageGroup, freshKeys, pgpGroup, type TestKeys } from '../../test/keys.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

const samples: Record<Format, string> = {
  yaml: [
    '# a head comment',
    'database:',
    '    user: app',
    '    password: s3cr3t # inline comment',
    '    port: 5432',
    '    ratio: 0.25',
    '    enabled: true',
    '    nothing: null',
    'hex: 0x1F',
    'list:',
    '    - one',
    '    - 2',
    'quoted: "123"',
    'yesish: yes',
    'empty: ""',
    'multi: |',
    '    line one',
    '    line two',
    'public_unencrypted: visible',
    '',
  ].join('\n'),
  json: '{\n\t"b": "two",\n\t"10": "integer-like key keeps its place",\n\t"a": {\n\t\t"n": 1,\n\t\t"f": 1.5,\n\t\t"t": true,\n\t\t"z": null,\n\t\t"l": [\n\t\t\t"x",\n\t\t\t"\\u003c\\u0026\\u003e"\n\t\t]\n\t}\n}\n',
  dotenv: '# comment\nDB_PASSWORD=hunter2\nMULTI=line1\\nline2\nSPACED = kept as is\n',
  ini: '; top comment\n[database]\nuser     = admin\npassword = p4ss\n\n[cache]\nttl = 60\n',
  binary: 'any bytes \u0000\u0001 and text\nwith lines\n',
};

describe('encrypt then decrypt, every format and key type', () => {
  let keys: TestKeys;
  beforeAll(async () => {
    keys = await freshKeys();
  });

  for (const format of Object.keys(samples) as Format[]) {
    for (const kind of ['x25519', 'hybrid', 'pgp'] as const) {
      it(`${format} with ${kind === 'pgp' ? 'PGP' : `age ${kind}`} round-trips to the same plaintext`, async () => {
        const store = storeFor(format);
        const group = kind === 'pgp' ? pgpGroup() : ageGroup(keys[kind].recipient);
        const encrypted = await encryptPlain(bytes(samples[format]), store, store, { keyGroups: [group], services: keys.services });
        expect(text(encrypted)).not.toContain(format === 'binary' ? 'with lines' : 's3cr3t');
        const opened = await openEncrypted(encrypted, store, keys.services);
        expect(opened.mac.verified).toBe(true);
        const original = store.loadPlain(bytes(samples[format]));
        expect(valuesEqual(opened.branches[0]!, original[0]!)).toBe(true);
        if (format !== 'yaml') expect(text(store.emitPlain(opened.branches))).toBe(samples[format]);
      });
    }
  }

  it('writes values with the Go types sops uses, so sops reads the same types back', async () => {
    const store = storeFor('yaml');
    const encrypted = text(await encryptPlain(bytes(samples.yaml), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services }));
    expect(encrypted).toMatch(/^ {4}port: ENC\[AES256_GCM,data:[^,]+,iv:[^,]{44},tag:[^,]{24},type:int\]$/m);
    expect(encrypted).toMatch(/^ {4}ratio: ENC\[.*type:float\]$/m);
    expect(encrypted).toMatch(/^ {4}enabled: ENC\[.*type:bool\]$/m);
    expect(encrypted).toMatch(/^ {4}nothing: null$/m);
    expect(encrypted).toMatch(/^hex: ENC\[.*type:int\]$/m);
    expect(encrypted).toMatch(/^quoted: ENC\[.*type:str\]$/m);
    expect(encrypted).toMatch(/^yesish: ENC\[.*type:str\]$/m);
    expect(encrypted).toMatch(/^empty: ""$/m);
    expect(encrypted).toMatch(/^public_unencrypted: visible$/m);
    expect(encrypted).toMatch(/^#ENC\[AES256_GCM,.*type:comment\]$/m);
    const opened = await openEncrypted(bytes(encrypted), store, keys.services);
    const plain = text(store.emitPlain(opened.branches));
    expect(plain).toContain('hex: 31\n');
    expect(plain).toContain('    password: s3cr3t # inline comment\n');
    expect(plain).toContain('# a head comment\n');
  });

  it('appends the metadata to every document of a multi-document YAML file and covers all of them with the MAC', async () => {
    const store = storeFor('yaml');
    const plain = 'a: one\n---\nb_unencrypted: two\n';
    const encrypted = text(await encryptPlain(bytes(plain), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services }));
    expect(encrypted.match(/^sops:$/gm)).toHaveLength(2);
    const opened = await openEncrypted(bytes(encrypted), store, keys.services);
    expect(text(store.emitPlain(opened.branches))).toBe(plain);
    const tampered = encrypted.replace('b_unencrypted: two', 'b_unencrypted: three');
    await expect(openEncrypted(bytes(tampered), store, keys.services)).rejects.toThrowError(/MAC mismatch/);
  });

  it('keeps Kubernetes Secret metadata readable with encrypted_regex and still detects tampering with it', async () => {
    const store = storeFor('yaml');
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\n    namespace: n8n\nstringData:\n    password: hunter2\n';
    const encrypted = text(
      await encryptPlain(bytes(secret), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], rules: { encryptedRegex: '^(data|stringData)$' }, services: keys.services }),
    );
    expect(encrypted).toContain('    namespace: n8n\n');
    expect(encrypted).toContain('    encrypted_regex: ^(data|stringData)$\n');
    expect(encrypted).not.toContain('hunter2');
    await expect(openEncrypted(bytes(encrypted.replace('namespace: n8n', 'namespace: evil')), store, keys.services)).rejects.toThrowError(/MAC mismatch/);
  });

  it('with mac_only_encrypted, readable fields may change without breaking the MAC', async () => {
    const store = storeFor('yaml');
    const secret = 'kind: Secret\nmetadata:\n    name: db\nstringData:\n    password: hunter2\n';
    const encrypted = text(
      await encryptPlain(bytes(secret), store, store, {
        keyGroups: [ageGroup(keys.x25519.recipient)],
        rules: { encryptedRegex: '^stringData$', macOnlyEncrypted: true },
        services: keys.services,
      }),
    );
    expect(encrypted).toContain('    mac_only_encrypted: true\n');
    const opened = await openEncrypted(bytes(encrypted.replace('name: db', 'name: renamed')), store, keys.services);
    expect(opened.mac.verified).toBe(true);
  });

  it('splits the data key across key groups with Shamir and needs the threshold of groups to open', async () => {
    const store = storeFor('json');
    const other = await freshKeys();
    const encrypted = await encryptPlain(bytes('{"k": "v"}'), store, store, {
      keyGroups: [ageGroup(keys.x25519.recipient), ageGroup(keys.hybrid.recipient), ageGroup(other.x25519.recipient)],
      shamirThreshold: 2,
      services: keys.services,
    });
    expect(text(encrypted)).toContain('"shamir_threshold": 2');
    expect(text(encrypted)).toContain('"key_groups": [');
    const twoGroups = await openEncrypted(encrypted, store, keys.services);
    expect(twoGroups.branches[0]!.get('k')).toBe('v');
    const oneGroup = await createKeyServices({ env: { SOPS_AGE_KEY: other.x25519.identity, HOME: other.dir }, useGpg: false });
    await expect(openEncrypted(encrypted, store, oneGroup)).rejects.toThrowError(/Recovery failed: 2 of 3 key groups must open, 1 did/);
  });

  it('refuses to encrypt a file that already carries sops metadata (exit code 203)', async () => {
    const store = storeFor('yaml');
    const encrypted = await encryptPlain(bytes('a: b\n'), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services });
    await expect(encryptPlain(encrypted, store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services })).rejects.toMatchObject({ code: 203 });
  });

  it('keeps the marker bytes Flux sniffs to recognise SOPS data in every format', async () => {
    const markers: Record<Format, RegExp> = {
      yaml: /^ {4}mac: ENC\[/m,
      json: /"mac": "ENC\[/,
      dotenv: /^sops_mac=ENC\[/m,
      ini: /^\[sops\]$/m,
      binary: /"mac": "ENC\[/,
    };
    for (const format of Object.keys(markers) as Format[]) {
      const store = storeFor(format);
      const encrypted = text(await encryptPlain(bytes(samples[format]), store, store, { keyGroups: [ageGroup(keys.x25519.recipient)], services: keys.services }));
      expect(encrypted, format).toMatch(markers[format]);
    }
  });
});

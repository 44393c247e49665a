import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgeIdentities, parseAgeKeyText } from './keys/identities.ts';
import { creationRuleFor, encryptPlain, openEncrypted, parseConfig, storeFor, createKeyServices } from './index.ts';
import { freshKeys, PGP_FP, type TestKeys } from '../../test/keys.ts';
import { scratchDir } from '../../test/shared.ts';

const enc = new TextEncoder();

describe('.sops.yaml creation rules', () => {
  let keys: TestKeys;
  beforeAll(async () => {
    keys = await freshKeys();
  });

  const configText = () => `
creation_rules:
  - path_regex: ^team/.*\\.yaml$
    shamir_threshold: 2
    key_groups:
      - age: [${keys.x25519.recipient}]
        merge:
          - age: [${keys.x25519.recipient}]
            pgp: ['${PGP_FP.slice(0, 20)} ${PGP_FP.slice(20)}']
      - age: ["${keys.hybrid.recipient}"]
  - path_regex: \\.env$
    age: ${keys.x25519.recipient} , ${keys.hybrid.recipient}
    unencrypted_regex: ^PUBLIC_
  - path_regex: cloud\\.yaml$
    kms: arn:aws:kms:eu-west-1:111122223333:key/abc
  - age: ${keys.x25519.recipient}
`;

  it('takes the first rule whose path_regex matches the path relative to the config, else the catch-all', () => {
    const config = parseConfig(configText(), '/repo/.sops.yaml');
    expect(creationRuleFor(config, '/repo/team/app.yaml')?.shamirThreshold).toBe(2);
    expect(creationRuleFor(config, '/repo/x.env')?.rules).toEqual({ unencryptedRegex: '^PUBLIC_' });
    expect(creationRuleFor(config, '/repo/other/team/app.yaml')?.pathRegex).toBeUndefined();
  });

  it('builds key groups with merged, de-duplicated keys and normalized fingerprints', () => {
    const rule = creationRuleFor(parseConfig(configText(), '/repo/.sops.yaml'), '/repo/team/a.yaml')!;
    expect(rule.keyGroups.map((g) => g.map((k) => (k.type === 'age' ? k.recipient : k.type === 'pgp' ? k.fingerprint : k.type)))).toEqual([
      [keys.x25519.recipient, PGP_FP],
      [keys.hybrid.recipient],
    ]);
    const env = creationRuleFor(parseConfig(configText(), '/repo/.sops.yaml'), '/repo/a.env')!;
    expect(env.keyGroups[0]!.map((k) => (k.type === 'age' ? k.recipient : ''))).toEqual([keys.x25519.recipient, keys.hybrid.recipient]);
  });

  it('encrypts with the rule\'s Shamir groups, opening with two of them', async () => {
    const rule = creationRuleFor(parseConfig(configText(), '/repo/.sops.yaml'), '/repo/team/a.yaml')!;
    const store = storeFor('yaml');
    const file = await encryptPlain(enc.encode('k: v\n'), store, store, { keyGroups: rule.keyGroups, shamirThreshold: rule.shamirThreshold, rules: rule.rules, services: keys.services });
    const text = new TextDecoder().decode(file);
    expect(text).toContain('    shamir_threshold: 2\n');
    expect(text).toMatch(/ {4}key_groups:\n {8}- age:\n/);
    expect((await openEncrypted(file, store, keys.services)).mac.verified).toBe(true);
  });

  it('keeps KMS keys it cannot use, and refuses to encrypt to them with a clear message', async () => {
    const rule = creationRuleFor(parseConfig(configText(), '/repo/.sops.yaml'), '/repo/cloud.yaml')!;
    const store = storeFor('yaml');
    await expect(encryptPlain(enc.encode('k: v\n'), store, store, { keyGroups: rule.keyGroups, services: keys.services })).rejects.toThrowError(
      'cannot encrypt the data key for kms keys: groundwork supports age and PGP',
    );
  });

  it('refuses a rule with two encryption rules', () => {
    expect(() => parseConfig('creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n', '/r/.sops.yaml')).toThrowError(/creation_rules\[0\]: cannot use more than one/);
  });
});

describe('where age identities come from', () => {
  let keys: TestKeys;
  beforeAll(async () => {
    keys = await freshKeys();
  });

  it('reads the default keys.txt under XDG_CONFIG_HOME', () => {
    const config = scratchDir();
    mkdirSync(join(config, 'sops', 'age'), { recursive: true });
    writeFileSync(join(config, 'sops', 'age', 'keys.txt'), `# key\n${keys.x25519.identity}\n`);
    const ids = new AgeIdentities({ env: { HOME: scratchDir(), XDG_CONFIG_HOME: config } });
    expect(ids.forRecipient('age1x')).toEqual([keys.x25519.identity]);
    expect(ids.origins()).toEqual([join(config, 'sops', 'age', 'keys.txt')]);
  });

  it('takes several keys on one SOPS_AGE_KEY line, and skips comments and plugin identities', () => {
    const ids = parseAgeKeyText(`# comment\n${keys.x25519.identity} ${keys.hybrid.identity}\nAGE-PLUGIN-YUBIKEY-1QQQ\n\n`, 'SOPS_AGE_KEY');
    expect(ids).toEqual([keys.x25519.identity, keys.hybrid.identity]);
  });

  it('runs SOPS_AGE_KEY_CMD with the recipient it is asked for', async () => {
    const dir = scratchDir();
    const script = join(dir, 'key-cmd.sh');
    writeFileSync(script, `#!/bin/sh\necho "$SOPS_AGE_RECIPIENT" > "${join(dir, 'asked')}"\ncat "${keys.x25519.file}"\n`, { mode: 0o755 });
    const services = await createKeyServices({ env: { HOME: dir, SOPS_AGE_KEY_CMD: script }, useGpg: false });
    const store = storeFor('yaml');
    const file = await encryptPlain(enc.encode('k: v\n'), store, store, { keyGroups: [[{ type: 'age', recipient: keys.x25519.recipient, enc: '' }]], services: keys.services });
    expect((await openEncrypted(file, store, services)).branches[0]!.get('k')).toBe('v');
    expect(readFileSync(join(dir, 'asked'), 'utf8').trim()).toBe(keys.x25519.recipient);
  });

  it('refuses unusable key files without printing their content', () => {
    expect(() => parseAgeKeyText('age-encryption.org/v1\n-> scrypt', '/k.txt')).toThrowError('/k.txt: passphrase-protected age key files are not supported by groundwork');
    let message = '';
    try {
      parseAgeKeyText('# header\nnot-a-key-but-maybe-secret\n', '/k.txt');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('/k.txt: line 2 is not an age identity');
  });
});

describe('INI files', () => {
  it('decrypts metadata written by sops 3.13.0/3.13.1 as """ multi-line values', async () => {
    const keys = await freshKeys();
    const store = storeFor('ini');
    const file = new TextDecoder().decode(
      await encryptPlain(enc.encode('[db]\n; who\nuser = admin\npassword = p4ss\n'), store, store, {
        keyGroups: [[{ type: 'age', recipient: keys.x25519.recipient, enc: '' }]],
        services: keys.services,
      }),
    );
    expect(file).toMatch(/^age__list_0__map_enc\s+= -----BEGIN AGE ENCRYPTED FILE-----\\n/m);
    const legacy = file.replace(/^(age__list_0__map_enc\s+= )(.*)$/m, (_m, key: string, value: string) => `${key}"""${value.replaceAll('\\n', '\n')}"""`);
    expect(legacy).toContain('"""-----BEGIN AGE ENCRYPTED FILE-----\n');
    const opened = await openEncrypted(enc.encode(legacy), store, keys.services);
    expect(new TextDecoder().decode(store.emitPlain(opened.branches))).toBe('[db]\n; who\nuser     = admin\npassword = p4ss\n');
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../sops-cli.ts';
import { freshKeys, type TestKeys } from '../../test/keys.ts';
import { scratchDir } from '../../test/shared.ts';

class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

describe('gw-sops, the sops-compatible command line', () => {
  let keys: TestKeys;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  async function run(argv: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(argv, { stdout, stderr, env: { ...env, ...extraEnv } });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  beforeAll(async () => {
    keys = await freshKeys();
    dir = scratchDir('gw-sops-cli-');
    env = { HOME: dir, SOPS_AGE_KEY_FILE: keys.x25519.file, GROUNDWORK_PGP_NO_GPG: '1', PATH: process.env.PATH };
  });

  function plainFile(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('encrypts with -e/--age to stdout and decrypts with -d and with the decrypt verb', async () => {
    const file = plainFile('app.yaml', 'db:\n    password: hunter2\n    port: 5432\n');
    const encrypted = await run(['-e', '--age', keys.x25519.recipient, file]);
    expect(encrypted.code).toBe(0);
    expect(encrypted.stdout).toMatch(/^ {4}password: ENC\[AES256_GCM,/m);
    const encFile = plainFile('app.enc.yaml', encrypted.stdout);
    expect((await run(['-d', encFile])).stdout).toBe('db:\n    password: hunter2\n    port: 5432\n');
    expect((await run(['decrypt', encFile])).stdout).toBe('db:\n    password: hunter2\n    port: 5432\n');
    expect((await run(['decrypt', '--extract', '["db"]["password"]', encFile])).stdout).toBe('hunter2');
    expect((await run(['decrypt', '--output-type', 'json', encFile])).stdout).toBe('{\n\t"db": {\n\t\t"password": "hunter2",\n\t\t"port": 5432\n\t}\n}\n');
  });

  it('encrypts in place and decrypts to a private --output file', async () => {
    const file = plainFile('inplace.json', '{"token": "abc"}');
    expect((await run(['encrypt', '-i', '-a', keys.x25519.recipient, file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('"mac": "ENC[');
    const out = join(dir, 'out.json');
    expect((await run(['decrypt', '--output', out, file])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('{\n\t"token": "abc"\n}\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((await run(['filestatus', file])).stdout).toBe('{"encrypted":true}\n');
    expect((await run(['filestatus', out])).stdout).toBe('{"encrypted":false}\n');
  });

  it('takes recipients and rules from the first matching creation rule of .sops.yaml', async () => {
    const config = plainFile(
      '.sops.yaml',
      `creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${keys.x25519.recipient}\n  - path_regex: \\.env$\n    age: >-\n      ${keys.hybrid.recipient},\n      ${keys.x25519.recipient}\n`,
    );
    const secret = plainFile('secret.yaml', 'kind: Secret\nstringData:\n    a: b\n');
    const inSecrets = join(dir, 'secrets');
    const viaRule = await run(['encrypt', '--config', config, '--filename-override', join(inSecrets, 'x.yaml'), secret]);
    expect(viaRule.code).toBe(0);
    expect(viaRule.stdout).toContain('kind: Secret\n');
    expect(viaRule.stdout).toContain('encrypted_regex: ^(data|stringData)$');
    const env2 = plainFile('x.env', 'A=1\n');
    const both = await run(['encrypt', '--config', config, env2]);
    expect(both.stdout.match(/^sops_age__list_\d+__map_recipient=/gm)).toHaveLength(2);
    const none = await run(['encrypt', '--config', config, plainFile('other.txt', 'x')]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain('error loading config: no matching creation rules found');
  });

  it('sets and unsets values, keeping the ciphertext of untouched values', async () => {
    const file = plainFile('set.yaml', 'a: one\nb: two\n');
    expect((await run(['encrypt', '-i', '-a', keys.x25519.recipient, file])).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    const bLine = /^b: .+$/m.exec(before)![0];
    expect((await run(['set', file, '["a"]', '"uno"'])).code).toBe(0);
    expect((await run(['set', file, '["c"]["d"]', '{"count": 1}'])).code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain(bLine);
    expect((await run(['-d', file])).stdout).toBe('a: uno\nb: two\nc:\n    d:\n        count: 1\n');
    const idempotent = readFileSync(file, 'utf8');
    expect((await run(['set', '--idempotent', file, '["a"]', '"uno"'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(idempotent);
    expect((await run(['--set', '["b"] "dos"', file])).code).toBe(0);
    expect((await run(['unset', file, '["c"]'])).code).toBe(0);
    expect((await run(['-d', file])).stdout).toBe('a: uno\nb: dos\n');
    const missing = await run(['unset', file, '["nope"]']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Key not found: nope');
    expect((await run(['unset', '--idempotent', file, '["nope"]'])).code).toBe(0);
  });

  it('rotates to a new data key, adding and removing recipients', async () => {
    const file = plainFile('rotate.yaml', 'k: v\n');
    await run(['encrypt', '-i', '-a', keys.x25519.recipient, file]);
    const before = readFileSync(file, 'utf8');
    expect((await run(['rotate', '-i', '--add-age', keys.hybrid.recipient, '--rm-age', keys.x25519.recipient, file])).code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after).not.toContain(keys.x25519.recipient);
    expect(after).toContain(keys.hybrid.recipient);
    expect(/^k: (.+)$/m.exec(after)![1]).not.toBe(/^k: (.+)$/m.exec(before)![1]);
    expect((await run(['-d', file])).code).toBe(128);
    expect((await run(['-d', file], { SOPS_AGE_KEY_FILE: keys.hybrid.file })).stdout).toBe('k: v\n');
  });

  it('updatekeys re-wraps the same data key for the recipients .sops.yaml names now', async () => {
    const configDir = scratchDir('gw-updatekeys-');
    const config = join(configDir, '.sops.yaml');
    const file = join(configDir, 'data.yaml');
    writeFileSync(config, `creation_rules:\n  - age: ${keys.x25519.recipient}\n`);
    writeFileSync(file, 'k: v\n');
    await run(['encrypt', '-i', '--config', config, file]);
    const before = readFileSync(file, 'utf8');
    const unchanged = await run(['updatekeys', '-y', '--config', config, file]);
    expect(unchanged.stderr).toContain('already up to date');
    expect(readFileSync(file, 'utf8')).toBe(before);
    writeFileSync(config, `creation_rules:\n  - age: ${keys.hybrid.recipient}\n`);
    const updated = await run(['updatekeys', '-y', '--config', config, file]);
    expect(updated.code).toBe(0);
    expect(updated.stderr).toContain(`+++ age:${keys.hybrid.recipient}`);
    expect(updated.stderr).toContain(`--- age:${keys.x25519.recipient}`);
    const after = readFileSync(file, 'utf8');
    for (const field of [/^k: .+$/m, /^ {4}mac: .+$/m, /^ {4}lastmodified: .+$/m]) expect(field.exec(after)![0]).toBe(field.exec(before)![0]);
    expect((await run(['-d', file], { SOPS_AGE_KEY_FILE: keys.hybrid.file })).stdout).toBe('k: v\n');
  });

  it('edit re-encrypts what the editor changed, exits 200 when nothing changed, and leaves no plaintext behind', async () => {
    const file = plainFile('edit.yaml', 'token: old\n');
    await run(['encrypt', '-i', '-a', keys.x25519.recipient, file]);
    const tempsBefore = readdirSync(tmpdir()).filter((f) => f.startsWith('gw-sops-edit-')).length;
    const editor = plainFile('editor.sh', '#!/bin/sh\nsed -i "s/old/new/" "$1"\n');
    spawnSync('chmod', ['+x', editor]);
    expect((await run(['edit', file], { EDITOR: editor })).code).toBe(0);
    expect((await run(['-d', file])).stdout).toBe('token: new\n');
    const bytes = readFileSync(file);
    const noChange = await run(['edit', file], { EDITOR: 'true' });
    expect(noChange.code).toBe(200);
    expect(noChange.stderr).toContain('File has not changed, exiting.');
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('gw-sops-edit-')).length).toBe(tempsBefore);
  });

  it('uses sops exit codes for the common failures', async () => {
    const file = plainFile('mac.yaml', 'a_unencrypted: x\nb: why\n');
    await run(['encrypt', '-i', '-a', keys.x25519.recipient, file]);
    writeFileSync(file, readFileSync(file, 'utf8').replace('a_unencrypted: x', 'a_unencrypted: z'));
    const mismatch = await run(['-d', file]);
    expect(mismatch.code).toBe(51);
    expect(mismatch.stderr).toMatch(/MAC mismatch\. File has [0-9A-F]{128}, computed [0-9A-F]{128}/);
    expect((await run(['-d', '--ignore-mac', file])).stdout).toBe('a_unencrypted: z\nb: why\n');
    expect((await run(['-d', join(dir, 'missing.yaml')])).code).toBe(100);
    expect((await run(['-e', '-a', keys.x25519.recipient, file])).code).toBe(203);
    const emptyConfig = plainFile('empty.sops.yaml', 'stores:\n  yaml:\n    indent: 2\n');
    expect((await run(['-e', '--config', emptyConfig, plainFile('nokeys.yaml', 'a: b\n')], { HOME: scratchDir() })).code).toBe(111);
    expect((await run(['--no-such-flag', file])).code).toBe(1);
  });

  it('runs as an npm bin from any directory', () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'gw-sops.mjs');
    const result = spawnSync(bin, ['--version'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^sops 3\.13\.2 \(groundwork gw-sops\)\n$/);
    expect(existsSync(bin)).toBe(true);
  });

  it("opens a file under clusters/<name>/ with that cluster's age.key, and says where it looked when nothing opens it", async () => {
    const cluster = join(dir, 'ws', 'clusters', 'demo');
    mkdirSync(join(cluster, 'secrets'), { recursive: true });
    writeFileSync(join(cluster, 'cluster.yaml'), 'name: demo\n');
    writeFileSync(join(cluster, 'age.key'), `# demo\n${keys.x25519.identity}\n`, { mode: 0o600 });
    const secret = join(cluster, 'secrets', 'app.yaml');
    writeFileSync(secret, (await run(['encrypt', '--age', keys.x25519.recipient, plainFile('demo.yaml', 'token: abc\n')])).stdout);
    const noKeys = { SOPS_AGE_KEY_FILE: '' };
    expect(await run(['decrypt', secret], noKeys)).toMatchObject({ code: 0, stdout: 'token: abc\n' });
    // The same file outside the cluster's folder, for a post-quantum recipient nobody has the key of.
    const stray = plainFile('stray.yaml', (await run(['encrypt', '--age', keys.hybrid.recipient, plainFile('s.yaml', 'token: abc\n')])).stdout);
    const failed = await run(['decrypt', stray], noKeys);
    expect(failed.code).toBe(128);
    expect(failed.stderr).toContain(`${keys.hybrid.recipient.slice(0, 24)}…`);
    expect(failed.stderr).not.toContain(keys.hybrid.recipient);
    expect(failed.stderr).toMatch(/looked for age identities in .*sops\/age\/keys\.txt \(missing\)/);
  });
});

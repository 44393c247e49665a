import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { programPath } from '@groundwork/testkit/programs';
import { main as gwSops } from '../sops-cli.ts';
import { freshKeys, PGP_FP, type TestKeys } from '../../test/keys.ts';
import { pgpKeyFiles, scratchDir } from '../../test/shared.ts';

/**
 * Our SOPS implementation (gw-sops) against the real sops CLI at the pinned release (v3.13.2, which reads
 * post-quantum age recipients as Flux does): every file either one writes, the other decrypts to the same bytes;
 * key rotation and updatekeys by one, decryption by the other; the same creation rule picked for the same path;
 * a tampered file refused by both with the same exit code.
 */

class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

const PLAINTEXTS: Record<string, { file: string; text: string; types?: string[] }> = {
  yaml: { file: 'app.yaml', text: 'app:\n    password: hunter2\n    port: 5432\n    hosts:\n        - a.example\n        - b.example\n' },
  json: { file: 'app.json', text: '{\n\t"token": "abc",\n\t"retries": 3,\n\t"nested": {\n\t\t"enabled": true\n\t}\n}\n' },
  dotenv: { file: 'app.env', text: 'DB_PASSWORD=hunter2\nPORT=5432\n' },
  ini: { file: 'app.ini', text: '[db]\npassword = hunter2\nport     = 5432\n\n[cache]\nttl = 60\n' },
  binary: { file: 'blob.bin', text: 'line one\n\u0000binary\u00ff tail', types: ['--input-type', 'binary', '--output-type', 'binary'] },
};

describe('our SOPS files and the real sops CLI, both ways', () => {
  let keys: TestKeys;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let keyFlags: Record<string, string[]>;

  const sops = (args: string[], extra: NodeJS.ProcessEnv = {}): Ran => {
    const result = spawnSync(programPath('sops'), args, { env: { ...env, ...extra }, cwd: dir, encoding: 'utf8' });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  const ours = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Ran> => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await gwSops(args, { stdout, stderr, env: { ...env, ...extra } });
    return { code, stdout: Buffer.concat(stdout.chunks).toString('utf8'), stderr: Buffer.concat(stderr.chunks).toString('utf8') };
  };
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    keys = await freshKeys();
    dir = scratchDir('gw-real-sops-');
    const gnupg = join(dir, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    const imported = spawnSync('gpg', ['--batch', '--import', pgpKeyFiles[0]!], { env: { ...process.env, GNUPGHOME: gnupg }, encoding: 'utf8' });
    expect(imported.status, imported.stderr).toBe(0);
    const identities = write('keys.txt', `${readFileSync(keys.x25519.file, 'utf8')}${readFileSync(keys.hybrid.file, 'utf8')}`);
    // Both read the same age identities; sops takes PGP keys from GnuPG, ours from the armored file.
    env = { HOME: dir, PATH: process.env.PATH, GNUPGHOME: gnupg, SOPS_AGE_KEY_FILE: identities, GROUNDWORK_PGP_KEYS: pgpKeyFiles[0], GROUNDWORK_PGP_NO_GPG: '1' };
    keyFlags = { 'age X25519': ['--age', keys.x25519.recipient], 'age post-quantum': ['--age', keys.hybrid.recipient], PGP: ['--pgp', PGP_FP] };
  }, 60_000);

  it('runs the pinned sops', () => {
    expect(sops(['--version', '--disable-version-check']).stdout).toContain('sops 3.13.2');
  });

  for (const [format, { file, text, types = [] }] of Object.entries(PLAINTEXTS)) {
    it(`${format}: what either one encrypts, both decrypt to the same bytes, for every key type`, async () => {
      const plain = write(file, text);
      for (const [kind, flags] of Object.entries(keyFlags)) {
        const byOurs = await ours(['encrypt', ...types, ...flags, plain]);
        expect(byOurs.code, `${kind}: ${byOurs.stderr}`).toBe(0);
        const bySops = sops(['encrypt', ...types, ...flags, plain]);
        expect(bySops.code, `${kind}: ${bySops.stderr}`).toBe(0);
        for (const [writer, encrypted] of [['ours', byOurs.stdout], ['sops', bySops.stdout]] as const) {
          const enc = write(`enc-${writer}-${file}`, encrypted);
          const a = sops(['decrypt', ...types, enc]);
          const b = await ours(['decrypt', ...types, enc]);
          expect(a.code, `${format}/${kind}, written by ${writer}, decrypted by sops: ${a.stderr}`).toBe(0);
          expect(b.code, `${format}/${kind}, written by ${writer}, decrypted by ours: ${b.stderr}`).toBe(0);
          expect(b.stdout, `${format}/${kind}, written by ${writer}`).toBe(a.stdout);
          expect(a.stdout, `${format}/${kind}, written by ${writer}`).toBe(text);
        }
      }
    });
  }

  it('refuses a tampered value with the same exit code as sops', async () => {
    const enc = write('tamper.yaml', (await ours(['encrypt', ...keyFlags['age X25519']!, write('t.yaml', 'a: secret-value\nb: other\n')])).stdout);
    const text = readFileSync(enc, 'utf8');
    // Flip one character of the first value's ciphertext (still valid base64).
    const tampered = text.replace(/(a: ENC\[AES256_GCM,data:)(.)/, (_m, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(text);
    writeFileSync(enc, tampered);
    const a = sops(['decrypt', enc]);
    const b = await ours(['decrypt', enc]);
    expect(a.code).not.toBe(0);
    expect(b.code).toBe(a.code);
  });

  it('rotates with one and decrypts with the other', async () => {
    const plain = write('rot.yaml', 'k: v1\n');
    const mine = write('rot-ours.yaml', (await ours(['encrypt', ...keyFlags['age X25519']!, plain])).stdout);
    expect(sops(['rotate', '-i', mine]).code).toBe(0);
    expect((await ours(['decrypt', mine])).stdout).toBe('k: v1\n');
    const theirs = write('rot-sops.yaml', sops(['encrypt', ...keyFlags['age X25519']!, plain]).stdout);
    expect((await ours(['rotate', '-i', theirs])).code).toBe(0);
    expect(sops(['decrypt', theirs]).stdout).toBe('k: v1\n');
  });

  it('picks the same creation rule for the same path, and updatekeys by one is read by the other with only the new key', async () => {
    const root = join(dir, 'repo');
    mkdirSync(join(root, 'clusters', 'a', 'secrets'), { recursive: true });
    mkdirSync(join(root, 'clusters', 'b', 'secrets'), { recursive: true });
    const config = (aRecipients: string) =>
      `creation_rules:\n  - path_regex: ^clusters/a/.*\\.yaml$\n    age: ${aRecipients}\n  - path_regex: ^clusters/b/.*\\.yaml$\n    age: ${keys.hybrid.recipient}\n  - path_regex: .*\n    pgp: ${PGP_FP}\n`;
    writeFileSync(join(root, '.sops.yaml'), config(keys.x25519.recipient));
    const recipientsOf = (text: string) => {
      const meta = (parse(text) as { sops: { age?: Array<{ recipient: string }>; pgp?: Array<{ fp: string }> } }).sops;
      return [...(meta.age ?? []).map((a) => a.recipient), ...(meta.pgp ?? []).map((p) => p.fp)].sort();
    };
    for (const path of ['clusters/a/secrets/x.yaml', 'clusters/b/secrets/y.yaml', 'other/z.yaml']) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), 'token: abc\n');
      const bySops = spawnSync(programPath('sops'), ['encrypt', path], { env, cwd: root, encoding: 'utf8' });
      const byOurs = await ours(['encrypt', '--config', join(root, '.sops.yaml'), join(root, path)]);
      expect(bySops.status, bySops.stderr).toBe(0);
      expect(recipientsOf(byOurs.stdout), path).toEqual(recipientsOf(bySops.stdout));
    }
    // Add the post-quantum recipient to cluster a's rule; each tool updates a file, the other reads it with that key alone.
    const onlyHybrid = write('hybrid-only.txt', readFileSync(keys.hybrid.file, 'utf8'));
    writeFileSync(join(root, '.sops.yaml'), config(`${keys.x25519.recipient},${keys.hybrid.recipient}`));
    for (const updater of ['sops', 'ours'] as const) {
      const path = join(root, 'clusters', 'a', 'secrets', `${updater}.yaml`);
      writeFileSync(path, (await ours(['encrypt', ...keyFlags['age X25519']!, write('u.yaml', 'token: abc\n')])).stdout);
      const updated = updater === 'sops' ? spawnSync(programPath('sops'), ['updatekeys', '-y', path], { env, cwd: root, encoding: 'utf8' }).status : (await ours(['updatekeys', '-y', '--config', join(root, '.sops.yaml'), path])).code;
      expect(updated, updater).toBe(0);
      const reader = updater === 'sops' ? (await ours(['decrypt', path], { SOPS_AGE_KEY_FILE: onlyHybrid })).stdout : sops(['decrypt', path], { SOPS_AGE_KEY_FILE: onlyHybrid }).stdout;
      expect(reader, updater).toBe('token: abc\n');
    }
  });
});

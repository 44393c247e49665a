import { readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main as secrets } from '../secrets-cli.ts';
import { main as generate } from '../generate.ts';
import { main as verify } from '../verify.ts';
import { createKeyServices, openEncrypted, storeFor } from '../sops/index.ts';
import { DEMO_DECLARATIONS, clusterYaml, scratchWorkspace, type ScratchWorkspace } from '../../test/workspace.ts';
import { isolatedEnv, runIn } from '@groundwork/testkit';
import { scratchDir } from '../../test/shared.ts';

describe('a cluster\'s secrets, from a new key to a verified rendering', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, main, argv, { ...env, ...extra });
  const secretFile = 'clusters/lab/secrets/demo/db.sops.yaml';

  beforeAll(() => {
    ws = scratchWorkspace({ lab: clusterYaml('lab') }, { demo: DEMO_DECLARATIONS });
    env = isolatedEnv(scratchDir('gw-home-'));
  });

  it('init creates a private cluster key, lists its recipient in cluster.yaml and writes the .sops.yaml rules', async () => {
    const result = await run(secrets, ['init', '--cluster=lab', '--x25519']);
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(join(ws.root, 'clusters/lab/age.key')).mode & 0o777).toBe(0o600);
    const recipient = /# public key: (age1\S+)/.exec(ws.read('clusters/lab/age.key'))![1]!;
    const cluster = ws.read('clusters/lab/cluster.yaml');
    expect(cluster).toContain(`    - ${recipient}`);
    expect(cluster).toContain("# who can read this cluster's secrets");
    const config = ws.read('.sops.yaml');
    expect(config).toContain('path_regex: ^clusters/lab/secrets/.+\\.sops\\.ya?ml$');
    expect(config).toContain('encrypted_regex: ^(data|stringData)$');
    expect((await run(secrets, ['init', '--cluster=lab'])).code).toBe(1);
  });

  it('generate renders what exists and lists every value still to provide', async () => {
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`lab: not provided yet (the apply of the layer that needs it refuses until it is): ${secretFile}: password (generated; run: gw-secrets create --cluster=lab)`);
    expect(result.stderr).toContain(`${secretFile}: apiToken (API token from the vendor console; set it with: gw-secrets set --cluster=lab demo/db apiToken < value-file)`);
    expect(result.stderr).toContain('clusters/lab/secrets/demo/session.sops.yaml: key (generated');
    expect(result.stderr).not.toContain('unused');
  });

  it('create makes the generated values and stops at the ones a person must provide', async () => {
    const result = await run(secrets, ['create', '--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`created ${secretFile}`);
    expect(result.stderr).toContain('values only a person can provide are still missing');
    const manifest = ws.read(secretFile);
    expect(manifest).toMatch(/^kind: Secret$/m);
    expect(manifest).toMatch(/^ {4}namespace: demo$/m);
    expect(manifest).toMatch(/^ {4}password: ENC\[AES256_GCM,/m);
    const status = await run(secrets, ['status', '--cluster=lab']);
    expect(status.stdout).toContain('  ✓ password (generated)');
    expect(status.stdout).toContain('  ✗ apiToken (provided: API token from the vendor console)');
  });

  it('set stores a provided value from a file, and create never replaces an existing value', async () => {
    const valueFile = join(scratchDir(), 'token');
    writeFileSync(valueFile, 'tok-123\n');
    expect((await run(secrets, ['set', '--cluster=lab', 'demo/db', 'apiToken', `--value-file=${valueFile}`])).code).toBe(0);
    const before = ws.read(secretFile);
    const again = await run(secrets, ['create', '--cluster=lab']);
    expect(again.code, again.stderr).toBe(0);
    expect(ws.read(secretFile)).toBe(before);
    const services = await createKeyServices({ env: { HOME: env.HOME!, SOPS_AGE_KEY_FILE: join(ws.root, 'clusters/lab/age.key') }, useGpg: false });
    const opened = await openEncrypted(new Uint8Array(readFileSync(join(ws.root, secretFile))), storeFor('yaml'), services);
    const stringData = opened.branches[0]!.get('stringData') as { get(k: string): unknown };
    expect(stringData.get('apiToken')).toBe('tok-123');
    expect(String(stringData.get('password'))).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it('generate renders the encrypted manifests privately and deterministically', async () => {
    const first = await run(generate, ['--cluster=lab']);
    expect(first.code, first.stderr).toBe(0);
    const dir = join(ws.root, 'clusters/lab/rendered/secrets-sops');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'secrets', 'demo')).sort()).toEqual(['db.sops.yaml', 'session.sops.yaml']);
    expect(statSync(join(dir, 'secrets/demo/db.sops.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'secrets/demo/db.sops.yaml'), 'utf8')).toBe(ws.read(secretFile));
    const index = readFileSync(join(dir, 'index.yaml'), 'utf8');
    expect(index).toContain('    keys: [password, apiToken]');
    await run(generate, ['--cluster=lab']);
    expect(readFileSync(join(dir, 'index.yaml'), 'utf8')).toBe(index);
  });

  it('verify checks MACs with the cluster key and says so when no identity is at hand', async () => {
    ws.git('add', '-A');
    ws.git('commit', '-qm', 'lab');
    const withKey = await run(verify, ['--cluster=lab']);
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(withKey.stderr).toContain('lab: 2 MACs verified with clusters/lab/age.key');
    expect(withKey.stderr).toMatch(/repository: \d+ tracked files scanned: no plaintext secret or private key/);
    const key = join(ws.root, 'clusters/lab/age.key');
    renameSync(key, `${key}.away`);
    try {
      const without = await run(verify, ['--cluster=lab']);
      expect(without.code, without.stderr).toBe(0);
      expect(without.stderr).toContain('lab: MACs not checked: no identity at hand for lab');
    } finally {
      renameSync(`${key}.away`, key);
    }
  });

  it('verify refuses a plaintext value, foreign recipients and a stale rendering', async () => {
    const original = ws.read(secretFile);
    ws.write(secretFile, original.replace(/^ {4}apiToken: ENC\[[^\n]+$/m, '    apiToken: leaked-in-clear'));
    const plaintext = await run(verify, ['--cluster=lab']);
    expect(plaintext.code).toBe(1);
    expect(plaintext.stderr).toContain(`${secretFile}: plaintext value under data/stringData for apiToken`);
    expect(plaintext.stderr).toContain('rendered/secrets-sops/secrets/demo/db.sops.yaml is stale');
    ws.write(secretFile, original);
    const foreign = original.replace(/recipient: age1\S+/, 'recipient: age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29');
    ws.write(secretFile, foreign);
    const mismatch = await run(verify, ['--cluster=lab']);
    expect(mismatch.stderr).toMatch(/encrypted to \[age:age1l44x\S+\] but \.sops\.yaml names \[age:age1\S+\] \(run: gw-sops updatekeys -y clusters\/lab\/secrets\/demo\/db\.sops\.yaml\)/);
    ws.write(secretFile, original);
    expect((await run(verify, ['--cluster=lab'])).code).toBe(0);
  });

  it('generate refuses a .sops.yaml whose rules disagree with the cluster file', async () => {
    const config = ws.read('.sops.yaml');
    ws.write('.sops.yaml', config.replace(/^( {6}- )age1\S+$/gm, '$1age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29'));
    const result = await run(generate, ['--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\.sops\.yaml: the rule for clusters\/lab\/secrets\/example\/example\.sops\.yaml encrypts to \[age:age1l44x/);
    expect((await run(secrets, ['sync-config'])).code).toBe(0);
    expect(ws.read('.sops.yaml')).toBe(config);
  });
});

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { programPath } from '@groundwork/testkit/programs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn } from '@groundwork/testkit';
import { main as secrets } from '../secrets-cli.ts';
import { main as verify } from '../verify.ts';
import { main as generate } from '../generate.ts';
import { createKeyServices } from '../sops/index.ts';
import { readSecretValues } from './manifests.ts';
import { clusterYaml, scratchWorkspace, type ScratchWorkspace } from '../../test/workspace.ts';
import { scratchDir } from '../../test/shared.ts';

// A database password generated for one namespace and a token a person provides, both needed by a backup
// job in another namespace.
const DECLARATIONS = `export default {
  layer: 'demo',
  secrets: [
    { namespace: 'app', name: 'db', description: 'database credentials',
      keys: { password: { generate: 'password', length: 20 }, token: { provided: 'a token' } } },
    { namespace: 'backup', name: 'db', description: 'what the backup job needs of the database credentials',
      keys: { password: { copyOf: { namespace: 'app', name: 'db', key: 'password' } }, token: { copyOf: { namespace: 'app', name: 'db', key: 'token' } } } },
  ],
};
`;

describe('secrets that copy another secret\'s value', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[]) => runIn(ws.root, main, argv, env);
  const values = async (path: string) => readSecretValues(ws.root, path, await createKeyServices({ env: { HOME: env.HOME!, SOPS_AGE_KEY_FILE: join(ws.root, 'clusters/lab/age.key') }, useGpg: false }));
  const copy = 'clusters/lab/secrets/backup/db.sops.yaml';
  const source = 'clusters/lab/secrets/app/db.sops.yaml';
  const setValue = async (ref: string, key: string, value: string) => {
    const file = join(scratchDir(), 'value');
    writeFileSync(file, value);
    return run(secrets, ['set', '--cluster=lab', ref, key, `--value-file=${file}`]);
  };

  beforeAll(async () => {
    ws = scratchWorkspace({ lab: clusterYaml('lab') }, { demo: DECLARATIONS });
    env = isolatedEnv(scratchDir('gw-home-'));
    expect((await run(secrets, ['init', '--cluster=lab', '--x25519'])).code).toBe(0);
  });

  it('create copies generated values in the same run, and waits for provided ones', async () => {
    const result = await run(secrets, ['create', '--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${copy}: token (copy of app/db token, which is missing): run create again once it is set`);
    expect((await values(copy)).password).toBe((await values(source)).password);
    const status = await run(secrets, ['status', '--cluster=lab']);
    expect(status.stdout).toContain('  ✓ password (copy of app/db password)');
    expect(status.stdout).toContain('  ✗ token (copy of app/db token)');
  });

  it('refuses to set a copy directly, and set copies the source\'s new value at once', async () => {
    const refused = await setValue('backup/db', 'token', 'x');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('backup/db token is a copy of app/db token: set that one, then run gw-secrets create --cluster=lab');
    const set = await setValue('app/db', 'token', 'tok-1');
    expect(set.code).toBe(0);
    expect(set.stderr).toContain(`copied the new value into ${copy}`);
    expect((await values(copy)).token).toBe('tok-1');
    const result = await run(secrets, ['create', '--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
  });

  it('verify finds a copy left behind by a source changed with the sops CLI, and create brings it back in line', async () => {
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    // Rotated by hand with the real sops, which knows nothing of copies.
    const rotated = spawnSync(programPath('sops'), ['set', source, '["stringData"]["password"]', '"rotated-password-1"'], { cwd: ws.root, env: { ...env, SOPS_AGE_KEY_FILE: join(ws.root, 'clusters/lab/age.key') }, encoding: 'utf8' });
    expect(rotated.status, rotated.stderr).toBe(0);
    expect((await values(source)).password).toBe('rotated-password-1');
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const stale = await run(verify, ['--cluster=lab']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`${copy}: password differs from app/db password (run: gw-secrets create --cluster=lab to copy it again)`);
    expect(stale.stderr).not.toContain('rotated-password-1');
    const refreshed = await run(secrets, ['create', '--cluster=lab']);
    expect(refreshed.stderr).toContain(`copied changed values into ${copy}`);
    expect((await values(copy)).password).toBe('rotated-password-1');
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const clean = await run(verify, ['--cluster=lab']);
    expect(clean.code, clean.stderr).toBe(0);
  });
});

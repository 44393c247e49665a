import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_KEY_HEADER } from '@groundwork/cluster';
import { main as secrets } from '../secrets-cli.ts';
import { main as apply } from '../apply.ts';
import { createKeyServices, encryptPlain, generateAgeIdentity, openEncrypted, storeFor } from '../sops/index.ts';
import { scanTrackedFiles } from './scan.ts';
import { DEMO_DECLARATIONS, clusterYaml, scratchWorkspace } from '../../test/workspace.ts';
import { isolatedEnv, runIn } from '@groundwork/testkit';
import { scratchDir } from '../../test/shared.ts';

async function exampleKeyFile(): Promise<{ text: string; recipient: string }> {
  const { identity, recipient } = await generateAgeIdentity('x25519');
  return { text: `${EXAMPLE_KEY_HEADER}\n# public key: ${recipient}\n${identity}\n`, recipient };
}

describe('the tracked-file scan', () => {
  it('allows exactly the marked example keys and finds plaintext secrets and private keys elsewhere', async () => {
    const ws = scratchWorkspace({});
    const example = await exampleKeyFile();
    const { identity } = await generateAgeIdentity('x25519');
    ws.write('clusters/demo/age.key', example.text);
    ws.write('clusters/demo/cluster.yaml', 'kind: Cluster\n');
    ws.write('notes/backup.key', `${EXAMPLE_KEY_HEADER}\n${identity}\n`);
    ws.write('clusters/other/age.key', `# my key\n${identity}\n`);
    ws.write('deploy/secret.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n');
    ws.write('deploy/empty-secret.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: placeholder\n');
    ws.write('app/.env', 'TOKEN=abc\n');
    ws.write('.env', 'NX_ISOLATE_PLUGINS=false\nNODE_COMPILE_CACHE=node_modules/.cache/node-compile\n');
    ws.write('tools/.env', 'NX_ISOLATE_PLUGINS=false\nNX_CLOUD_ACCESS_TOKEN=abc\n');
    const pem = (edge: string) => `-----${edge} ${['RSA', 'PRIVATE', 'KEY'].join(' ')}-----`;
    ws.write('docs/pem.md', [pem('BEGIN'), 'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu', pem('END'), ''].join('\n'));
    ws.write('clusters/demo/rendered/secrets-sops/index.yaml', 'secrets: []\n');
    ws.git('add', '-A');
    ws.git('add', '-f', 'clusters/demo/age.key', 'clusters/other/age.key', 'clusters/demo/rendered/secrets-sops/index.yaml');
    const result = scanTrackedFiles(ws.root);
    expect(result.scanned).toBe(true);
    expect(result.problems.sort()).toEqual(
      [
        'app/.env: dotenv file with values is tracked unencrypted',
        'tools/.env: dotenv file with values is tracked unencrypted',
        'clusters/demo/rendered/secrets-sops/index.yaml: rendered output is tracked by git (it can hold key material); remove it with git rm --cached',
        'clusters/other/age.key: private key material is tracked by git',
        'deploy/secret.yaml: Kubernetes Secret "db" is tracked in plaintext; encrypt it with gw-sops or move it under clusters/<name>/secrets/',
        'docs/pem.md: private key material is tracked by git',
        'notes/backup.key: private key material is tracked by git',
      ].sort(),
    );
  });

  it('finds nothing wrong in this repository', () => {
    const root = join(import.meta.dirname, '..', '..', '..', '..');
    const result = scanTrackedFiles(root);
    if (result.scanned) expect(result.problems).toEqual([]);
  });
});

describe('apply and the example keys', () => {
  it('refuses a cluster keyed with an example key, then rekey moves it to a real key', async () => {
    const example = await exampleKeyFile();
    const ws = scratchWorkspace({ lab: clusterYaml('lab', [example.recipient]) }, { demo: DEMO_DECLARATIONS });
    const env = isolatedEnv(scratchDir('gw-home-'));
    ws.write('clusters/lab/age.key', example.text);
    expect((await runIn(ws.root, secrets, ['sync-config'], env)).code).toBe(0);
    ws.write('token-source', 'tok\n');
    expect((await runIn(ws.root, secrets, ['set', '--cluster=lab', 'demo/db', 'apiToken', `--value-file=${join(ws.root, 'token-source')}`], env)).code).toBe(0);
    ws.git('add', '-A');
    ws.git('add', '-f', 'clusters/lab/age.key');
    ws.git('commit', '-qm', 'example');

    const refused = await runIn(ws.root, apply, ['--cluster=lab'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to apply lab: clusters/lab/age.key is an example key, public in this repository');
    expect(refused.stderr).toContain('hint: create a real key and re-encrypt this cluster\'s secrets with: gw-secrets rekey --cluster=lab');
    expect((await runIn(ws.root, apply, [], env)).stderr).toContain('apply changes a live cluster: name exactly one with --cluster=<name>');

    const rekeyed = await runIn(ws.root, secrets, ['rekey', '--cluster=lab'], env);
    expect(rekeyed.code, rekeyed.stderr).toBe(0);
    expect(rekeyed.stderr).toContain('the old key file was tracked by Git and is now removed from the index');
    expect(rekeyed.stderr).toContain('the old values were readable with a public example key');
    const keyText = ws.read('clusters/lab/age.key');
    expect(keyText.split('\n')[0]).toContain('groundwork age key for cluster lab');
    const recipient = /# public key: (age1pq1\S+)/.exec(keyText)![1]!;
    const cluster = ws.read('clusters/lab/cluster.yaml');
    expect(cluster).toContain(recipient);
    expect(cluster).not.toContain(example.recipient);
    expect(ws.read('.sops.yaml')).not.toContain(example.recipient);
    expect(ws.git('ls-files', 'clusters/lab/age.key')).toBe('');

    const file = new Uint8Array(readFileSync(join(ws.root, 'clusters/lab/secrets/demo/db.sops.yaml')));
    const newKey = await createKeyServices({ env: { HOME: env.HOME!, SOPS_AGE_KEY_FILE: join(ws.root, 'clusters/lab/age.key') }, useGpg: false });
    expect((await openEncrypted(file, storeFor('yaml'), newKey)).mac.verified).toBe(true);
    const oldKey = await createKeyServices({ env: { HOME: env.HOME!, SOPS_AGE_KEY: example.text }, useGpg: false });
    await expect(openEncrypted(file, storeFor('yaml'), oldKey)).rejects.toMatchObject({ code: 128 });

    const accepted = await runIn(ws.root, apply, ['--cluster=lab'], env);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stderr).toContain('lab: 1 secret file decrypted in memory with valid MACs');

    // Now the key is real: something encrypted to it outside the repository (a backup) must stay readable.
    const realKey = ws.read('clusters/lab/age.key');
    const backup = new TextDecoder().decode(await encryptPlain(new TextEncoder().encode('dump: "SELECT 1"\n'), storeFor('yaml'), storeFor('yaml'), { keyGroups: [[{ type: 'age', recipient, enc: '' }]], services: newKey }));
    const again = await runIn(ws.root, secrets, ['rekey', '--cluster=lab'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("clusters/lab/age.key is this cluster's own key, not an example one");
    expect(again.stderr).toContain('--replace-key');
    expect(ws.read('clusters/lab/age.key')).toBe(realKey);
    const replaced = await runIn(ws.root, secrets, ['rekey', '--cluster=lab', '--replace-key'], env);
    expect(replaced.code, replaced.stderr).toBe(0);
    const kept = /kept in (clusters\/lab\/age\.key\.old-\d{8}T\d{6})/.exec(replaced.stderr)![1]!;
    expect(ws.read(kept)).toBe(realKey);
    expect(ws.git('check-ignore', kept).trim()).toBe(kept);
    const keptKey = await createKeyServices({ env: { HOME: env.HOME!, SOPS_AGE_KEY_FILE: join(ws.root, kept) }, useGpg: false });
    expect((await openEncrypted(new TextEncoder().encode(backup), storeFor('yaml'), keptKey)).mac.verified).toBe(true);
    const newest = await createKeyServices({ env: { HOME: env.HOME!, SOPS_AGE_KEY_FILE: join(ws.root, 'clusters/lab/age.key') }, useGpg: false });
    expect((await openEncrypted(new Uint8Array(readFileSync(join(ws.root, 'clusters/lab/secrets/demo/db.sops.yaml'))), storeFor('yaml'), newest)).mac.verified).toBe(true);
  });

  it('refuses a cluster that still lists an example recipient even without the example key file', async () => {
    const example = await exampleKeyFile();
    const { recipient: own } = await generateAgeIdentity('x25519');
    const ws = scratchWorkspace({ demo: clusterYaml('demo', [example.recipient]), copy: clusterYaml('copy', [own, example.recipient]) });
    ws.write('clusters/demo/age.key', example.text);
    const result = await runIn(ws.root, apply, ['--cluster=copy'], isolatedEnv(scratchDir('gw-home-')));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refusing to apply copy: cluster.yaml sops.age lists the public example key from clusters/demo/age.key');
  });
});

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace } from '@groundwork/testkit';
import { loadCluster } from '@groundwork/cluster';
import { main as secrets } from '../secrets-cli.ts';
import { main as verify } from '../verify.ts';
import { clusterKeyServices } from './identity.ts';
import { clusterSecretFiles, readSecretValues } from './manifests.ts';
import { exampleValuesIn } from './provenance.ts';

/**
 * The README's "Start your own cluster", typed as a new user would: copy an example, rename it, rekey, set what
 * rekey says is public. No value of the new cluster may equal any value of the example clusters.
 */

const repo = join(import.meta.dirname, '..', '..', '..', '..');
const layerSecrets = (pkg: string) => `export { default } from ${JSON.stringify(join(repo, 'packages', pkg, 'src', 'secrets.ts'))};\n`;

describe('a cluster started from a copied example keeps none of its values', () => {
  it('rekey regenerates every generated value, names the given ones to set anew, and verify finds no public value left', async () => {
    const ws = scratchWorkspace({}, { n8n: layerSecrets('n8n'), dr: layerSecrets('dr'), observability: layerSecrets('observability'), apps: layerSecrets('apps') });
    const env = isolatedEnv(scratchDir('gw-home-'));
    cpSync(join(repo, 'clusters', 'pi-fleet'), join(ws.root, 'clusters', 'pi-fleet'), { recursive: true, filter: (src) => !src.includes('/rendered') });
    cpSync(join(repo, '.sops.yaml'), join(ws.root, '.sops.yaml'));
    // 1-2: copy the example and name the folder and the file after the new cluster.
    cpSync(join(ws.root, 'clusters', 'pi-fleet'), join(ws.root, 'clusters', 'mine'), { recursive: true });
    const file = join(ws.root, 'clusters', 'mine', 'cluster.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: pi-fleet', 'name: mine'));
    expect((await runIn(ws.root, secrets, ['sync-config'], env)).code).toBe(0);

    // 3: rekey, as the README says.
    const rekeyed = await runIn(ws.root, secrets, ['rekey', '--cluster=mine'], env);
    expect(rekeyed.code, rekeyed.stderr).toBe(0);
    expect(rekeyed.stderr).toMatch(/generated value\(s\) made anew/);
    const toSet = [...rekeyed.stderr.matchAll(/gw-secrets set --cluster=mine (\S+) (\S+) < value-file/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(toSet.map(([ref, key]) => `${ref} ${key}`)).toEqual(expect.arrayContaining(['dr/backup-s3 access-key-id', 'dr/backup-s3 secret-access-key']));

    // Before the given values are set anew, verify names each one that is still public.
    const before = await runIn(ws.root, verify, ['--cluster=mine'], env);
    expect(before.code).toBe(1);
    // The example holds that value twice: the original in dr/ and the copy for vault's volume archives.
    expect(before.stderr).toMatch(/clusters\/mine\/secrets\/dr\/backup-s3\.sops\.yaml: secret-access-key holds the value of clusters\/pi-fleet\/secrets\/(dr|vault)\/backup-s3\.sops\.yaml: secret-access-key, public in this repository/);

    // 5: set what only a person can give.
    for (const [ref, key] of toSet) {
      const value = join(scratchDir('gw-value-'), 'v');
      writeFileSync(value, `a-new-value-for-${key}-${Math.random().toString(36).slice(2)}`);
      const set = await runIn(ws.root, secrets, ['set', '--cluster=mine', ref, key, `--value-file=${value}`], env);
      expect(set.code, set.stderr).toBe(0);
    }

    // No value of the new cluster equals any example value; verify agrees.
    const cluster = loadCluster(ws.root, 'mine');
    const services = await clusterKeyServices(cluster);
    expect(await exampleValuesIn(ws.root, cluster, services)).toEqual([]);
    const examples = await clusterKeyServices(loadCluster(ws.root, 'pi-fleet'));
    const exampleValues = new Set<string>();
    for (const path of clusterSecretFiles(ws.root, 'pi-fleet').filter((p) => p.includes('/secrets/'))) for (const v of Object.values(await readSecretValues(ws.root, path, examples))) exampleValues.add(v);
    for (const path of clusterSecretFiles(ws.root, 'mine').filter((p) => p.includes('/secrets/'))) {
      for (const [key, value] of Object.entries(await readSecretValues(ws.root, path, services))) {
        if (value.length >= 12) expect(exampleValues.has(value), `${path}: ${key}`).toBe(false);
      }
    }
    const after = await runIn(ws.root, verify, ['--cluster=mine'], env);
    expect(after.stderr).not.toContain('public in this repository');
  }, 120_000);
});

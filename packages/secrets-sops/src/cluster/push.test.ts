import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { isolatedEnv, runIn } from '@groundwork/testkit';
import { programVersion } from '@groundwork/testkit/programs';
import { startControlPlane, throwawaySpec, type ControlPlane } from '@groundwork/testkit/kube';
import { main as secrets } from '../secrets-cli.ts';
import { main as apply } from '../apply.ts';
import { writeEncryptedFile } from './files.ts';
import { clusterKeyServices } from './identity.ts';
import { loadRepoSopsConfig } from './sops-rules.ts';
import { DEMO_DECLARATIONS, clusterYaml, scratchWorkspace, type ScratchWorkspace } from '../../test/workspace.ts';
import { scratchDir } from '../../test/shared.ts';

describe('secrets-sops apply pushes the Secrets no layer declares', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  let plane: ControlPlane;
  const own = 'clusters/lab/secrets/apps/registry-login.sops.yaml';
  const run = (argv: string[], extra: NodeJS.ProcessEnv = {}) => runIn(ws.root, apply, argv, { ...env, ...extra });

  beforeAll(async () => {
    ws = scratchWorkspace({ lab: clusterYaml('lab') }, { demo: DEMO_DECLARATIONS });
    env = isolatedEnv(scratchDir('gw-home-'), { GROUNDWORK_POLL_MS: '20' });
    expect((await runIn(ws.root, secrets, ['init', '--cluster=lab', '--x25519'], env)).code).toBe(0);
    const valueFile = join(scratchDir('gw-value-'), 'v');
    writeFileSync(valueFile, 'vendor-token');
    await runIn(ws.root, secrets, ['create', '--cluster=lab'], env);
    expect((await runIn(ws.root, secrets, ['set', '--cluster=lab', 'demo/db', 'apiToken', `--value-file=${valueFile}`], env)).code).toBe(0);
    const cluster = loadCluster(ws.root, 'lab');
    const manifest = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-login\n  namespace: apps\nstringData:\n  password: p4ss-w0rd\n';
    await writeEncryptedFile(ws.root, own, Buffer.from(manifest), await clusterKeyServices(cluster, env), loadRepoSopsConfig(ws.root));
    plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), 'lab'), kwok: false });
  }, 120_000);
  afterAll(() => plane?.stop());

  it('only checks the secrets while the cluster has no kubeconfig yet', async () => {
    const result = await run(['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('lab: declared Secrets are applied by their layers: demo 2');
    expect(result.stderr).toContain('lab: 1 Secret(s) no layer declares wait for the cluster');
    expect(result.stderr).toContain('lab: 3 secret files decrypted in memory with valid MACs');
  });

  it('names a namespace that does not exist yet', async () => {
    ws.useKubeconfig('lab', plane.kubeconfig());
    const result = await run(['--cluster=lab']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`lab: ${own}: namespace apps does not exist in the cluster`);
  });

  it('applies them decrypted, leaves declared ones to their layer, and prunes one removed from the repository', async () => {
    await plane.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
    const result = await run(['--cluster=lab']);
    expect(result.code, result.stderr).toBe(0);
    const secret = (await plane.client.get('v1', 'Secret', 'registry-login', 'apps'))!;
    expect(Buffer.from((secret.data as Record<string, string>).password!, 'base64').toString()).toBe('p4ss-w0rd');
    expect(secret.metadata.labels).toMatchObject({ 'groundwork.dev/layer': 'secrets-sops', 'groundwork.dev/cluster': 'lab' });
    expect(await plane.client.get('v1', 'Namespace', 'demo')).toBeUndefined();
    rmSync(join(ws.root, own));
    const pruned = await run(['--cluster=lab']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).toContain('pruned Secret apps/registry-login (no longer rendered)');
    expect(await plane.client.get('v1', 'Secret', 'registry-login', 'apps')).toBeUndefined();
  });
});

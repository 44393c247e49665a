import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { apiEndpoint, kubernetesVersion, nodeInstallDisk, type Cluster, type ClusterNode } from '@groundwork/cluster';
import { exampleCluster, scratchDir } from '@groundwork/testkit';
import { programPath } from '@groundwork/testkit/programs';
import { bundleFromYaml, bundleToYaml, createAdminClient, generateBundle, type SecretsBundle } from '../bundle/bundle.ts';
import { certSans } from '../config/machine.ts';
import { nodeImages } from '../config/platform.ts';
import { documentsToYaml, renderDocuments } from '../config/render.ts';
import { checkAdminClient, subjectKeyIdOf } from '../pki/inspect.ts';
import { subjectKeyId } from '../pki/x509.ts';
import { publicKeyOf, loadPrivateKey } from '../pki/keys.ts';
import { REVIEWED_DIFFERENCES, differingPaths, reviewedFor } from './differences.ts';

/**
 * Talos's own machine-config code (pkg/machinery at the examples' Talos version, tools/go/talos) on what we
 * render: its strict loader and validation for every node of every example, its generator for the same inputs
 * and secrets bundle (the differences must all be reviewed), and its secrets bundle imported as talosctl users do.
 */

type Doc = Record<string, unknown>;
const EXAMPLES = ['pi-fleet', 'proxmox-ha', 'metal-ha', 'docker-dev'];
const repo = join(import.meta.dirname, '..', '..', '..', '..');
const check = (args: string[]) => spawnSync(programPath('talos-check'), args, { encoding: 'utf8' });
const runtimeMode = (node: ClusterNode) => (node.platform === 'docker' ? 'container' : 'metal');

interface Validated {
  file: string;
  warnings: string[];
  error?: string;
}

function validate(files: string[], mode: string): Validated[] {
  const result = check(['validate', '--mode', mode, ...files]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Validated);
}

describe("machine configs checked by Talos's own code", () => {
  let dir: string;
  let bundle: SecretsBundle;
  let secretsFile: string;

  beforeAll(() => {
    dir = scratchDir('gw-talos-code-');
    // A bundle made the way `talosctl gen secrets` makes it, as users bring one.
    secretsFile = join(dir, 'talosctl-secrets.yaml');
    const made = check(['gen-secrets', '--out', secretsFile]);
    expect(made.status, made.stderr).toBe(0);
    bundle = bundleFromYaml(readFileSync(secretsFile, 'utf8'));
  });

  it('loads every node of every example strictly and validates it in its runtime mode, without a warning', () => {
    for (const name of EXAMPLES) {
      const cluster = exampleCluster(name).config;
      for (const mode of ['metal', 'container']) {
        const nodes = cluster.nodes.filter((n) => runtimeMode(n) === mode);
        if (nodes.length === 0) continue;
        const files = nodes.map((node) => {
          const file = join(dir, `${name}.${node.name}.yaml`);
          writeFileSync(file, documentsToYaml(renderDocuments({ cluster, bundle, node })));
          return file;
        });
        for (const result of validate(files, mode)) expect(result, result.file).toEqual({ file: result.file, warnings: [] });
      }
    }
  });

  it('rejects what a node would reject: an unknown field, a document kind twice, a bad endpoint', () => {
    const cluster = exampleCluster('pi-fleet').config;
    const docs = renderDocuments({ cluster, bundle, node: cluster.nodes[1]! }) as Doc[];
    const yaml = documentsToYaml(docs);
    const cases = {
      unknown: yaml.replace('machine:\n', 'machine:\n    kubelett: {}\n'),
      twice: `${yaml}---\n${documentsToYaml([docs.find((d) => d.kind === 'ResolverConfig')!])}`,
      endpoint: yaml.replace(/endpoint: https:\/\/[^\n]+/, 'endpoint: https://[::1'),
    };
    const files = Object.entries(cases).map(([label, text]) => {
      const file = join(dir, `broken-${label}.yaml`);
      writeFileSync(file, text);
      return file;
    });
    const [unknown, twice, endpoint] = validate(files, 'metal');
    expect(unknown!.error).toMatch(/kubelett/);
    expect(twice!.error).toMatch(/ResolverConfig/);
    expect(endpoint!.error).toMatch(/endpoint|parse/i);
  });

  it("differs from Talos's generator only where a reviewed reason says why", () => {
    const used = new Set<string>();
    const unexplained: string[] = [];
    for (const name of EXAMPLES) {
      const cluster: Cluster = exampleCluster(name).config;
      for (const node of cluster.nodes) {
        const input = {
          clusterName: cluster.name,
          endpoint: apiEndpoint(cluster),
          kubernetesVersion: kubernetesVersion(cluster),
          talosVersion: 'v1.13',
          secrets: secretsFile,
          installDisk: nodeInstallDisk(node),
          installImage: nodeImages(cluster, node).installer,
          additionalSANs: certSans(cluster),
          kubePrismPort: 7445,
          allowSchedulingOnControlPlanes: cluster.controlPlane.allowWorkloads,
        };
        const out = scratchDir('gw-talos-gen-');
        writeFileSync(join(out, 'input.json'), JSON.stringify(input));
        const made = check(['generate', '--input', join(out, 'input.json'), '--out', out]);
        expect(made.status, made.stderr).toBe(0);
        const file = node.role === 'controlplane' ? 'controlplane.yaml' : 'worker.yaml';
        const talos = parseAllDocuments(readFileSync(join(out, file), 'utf8')).map((d) => d.toJS() as Doc);
        for (const path of differingPaths(renderDocuments({ cluster, bundle, node }) as Doc[], talos)) {
          const reviewed = reviewedFor(path);
          if (reviewed) used.add(reviewed.path);
          else unexplained.push(`${name}/${node.name}: ${path}`);
        }
      }
    }
    expect(unexplained).toEqual([]);
    expect(REVIEWED_DIFFERENCES.map((d) => d.path).filter((p) => !used.has(p))).toEqual([]);
    // docs/talos.md shows the list.
    const docs = readFileSync(join(repo, 'docs', 'talos.md'), 'utf8');
    for (const { path } of REVIEWED_DIFFERENCES) expect(docs, path).toContain(`| \`${path}\` |`);
  });

  it("gives a talosctl bundle an admin client that chains to its OS CA, whose key identifier is Talos's random one", () => {
    const ca = bundle.certs.os;
    // Talos's CA does not carry the SHA-1 of its key: an issued certificate must repeat the CA's own identifier.
    expect(subjectKeyIdOf(ca.crt)!.equals(subjectKeyId(publicKeyOf(loadPrivateKey(ca.key))))).toBe(false);
    const client = createAdminClient(bundle);
    expect(checkAdminClient(client, bundle).problems).toEqual([]);
    writeFileSync(join(dir, 'os-ca.crt'), ca.crt);
    writeFileSync(join(dir, 'admin.crt'), client.crt);
    const verified = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'os-ca.crt'), join(dir, 'admin.crt')], { encoding: 'utf8' });
    expect(verified.stdout.trim(), verified.stderr).toBe(`${join(dir, 'admin.crt')}: OK`);
  });

  it("writes bundles Talos's own loader and bundle validation accept", () => {
    const ours = join(dir, 'ours-secrets.yaml');
    writeFileSync(ours, bundleToYaml(generateBundle()));
    const cluster = exampleCluster('pi-fleet').config;
    writeFileSync(join(dir, 'ours-input.json'), JSON.stringify({ clusterName: cluster.name, endpoint: apiEndpoint(cluster), kubernetesVersion: kubernetesVersion(cluster), talosVersion: 'v1.13', secrets: ours }));
    const made = check(['generate', '--input', join(dir, 'ours-input.json'), '--out', scratchDir('gw-talos-ours-')]);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
  });
});

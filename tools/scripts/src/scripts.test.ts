import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFile } from '@groundwork/kit';
import { changedFiles, clustersTouched } from './changed-clusters.ts';
import { missingTools, REQUIRED_TOOLS } from './ensure-tools.ts';

const clusters = ['east', 'west', 'lab'];

describe('clusters a change touched', () => {
  it('is the clusters whose folders changed', () => {
    expect(clustersTouched(['clusters/west/cluster.yaml', 'clusters/lab/secrets/n8n/db.sops.yaml', 'docs/x.md'], clusters)).toEqual(['west', 'lab']);
  });

  it('is every cluster when code, workspace configuration or .sops.yaml changed', () => {
    for (const file of ['packages/secrets-sops/src/generate.ts', 'nx.json', 'package-lock.json', '.sops.yaml', 'tools/layer-plugin/src/targets.ts']) {
      expect(clustersTouched(['clusters/west/cluster.yaml', file], clusters), file).toEqual(clusters);
    }
  });

  it('is none for documentation, CI files and removed clusters', () => {
    expect(clustersTouched(['README.md', 'docs/secrets.md', '.github/workflows/ci.yaml', 'clusters/gone/cluster.yaml'], clusters)).toEqual([]);
  });

  it('reads the changed files from git between two commits', () => {
    const root = mkdtempSync(join(tmpdir(), 'gw-changed-'));
    const git = (...args: string[]) => execFile('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: root });
    git('init', '-q', '-b', 'main');
    mkdirSync(join(root, 'clusters', 'east'), { recursive: true });
    writeFileSync(join(root, 'clusters', 'east', 'cluster.yaml'), 'a: 1\n');
    git('add', '-A');
    git('commit', '-qm', 'one');
    writeFileSync(join(root, 'clusters', 'east', 'cluster.yaml'), 'a: 2\n');
    writeFileSync(join(root, 'README.md'), 'x\n');
    git('add', '-A');
    git('commit', '-qm', 'two');
    expect(changedFiles(root, 'HEAD~1', 'HEAD').sort()).toEqual(['README.md', 'clusters/east/cluster.yaml']);
    expect(clustersTouched(changedFiles(root, 'HEAD~1', 'HEAD'), ['east', 'west'])).toEqual(['east']);
  });
});

describe('the tools the test suite needs', () => {
  it('reports exactly the ones that are not installed', () => {
    expect(missingTools(REQUIRED_TOOLS, (command) => command !== 'age').map((t) => t.debianPackage)).toEqual(['age']);
    expect(missingTools(REQUIRED_TOOLS, () => true)).toEqual([]);
  });
});

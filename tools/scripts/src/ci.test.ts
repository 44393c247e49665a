import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  steps: Step[];
  needs?: string[];
  strategy?: { matrix?: Record<string, unknown> };
  environment?: string;
}

describe('CI wiring', () => {
  const workflow = parse(read('.github/workflows/ci.yaml')) as { on: Record<string, unknown>; jobs: Record<string, Job>; env: Record<string, string> };

  it('checks every push and pull request with full history on Node 24', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    const check = workflow.jobs.check!;
    expect(check.steps.find((s) => s.uses?.startsWith('actions/checkout'))?.with?.['fetch-depth']).toBe(0);
    expect(check.steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version-file']).toBe('.nvmrc');
    expect(read('.nvmrc').trim()).toBe('24');
    expect(check.steps.some((s) => s.run?.startsWith('npm ci'))).toBe(true);
    expect(check.steps.some((s) => s.uses?.startsWith('nrwl/nx-set-shas'))).toBe(true);
    expect(check.steps.some((s) => /nx affected -t typecheck test generate verify --base="\$NX_BASE" --head="\$NX_HEAD"/.test(s.run ?? ''))).toBe(true);
    expect(workflow.env.NX_NO_CLOUD).toBe('true');
  });

  it('applies only the clusters a push to main touched, one environment per cluster', () => {
    const changed = workflow.jobs['changed-clusters']!;
    expect(changed.steps.some((s) => s.run?.includes('tools/scripts/src/changed-clusters.ts') && s.run.includes('--json'))).toBe(true);
    const apply = workflow.jobs.apply!;
    expect(apply.needs).toEqual(['check', 'changed-clusters']);
    expect(apply.strategy?.matrix?.cluster).toBe('${{ fromJSON(needs.changed-clusters.outputs.clusters) }}');
    expect(apply.environment).toBe('cluster-${{ matrix.cluster }}');
    expect(apply.steps.some((s) => s.run?.includes('nx affected -t apply --cluster=${{ matrix.cluster }}'))).toBe(true);
  });

  it('.ci/run installs the tools and runs the README test command', () => {
    const readme = read('README.md');
    const ciRun = read('.ci/run');
    expect(readme).toMatch(/^npm test$/m);
    expect(ciRun).toMatch(/^npm ci /m);
    expect(ciRun).toMatch(/^npm test$/m);
    expect(ciRun).toContain('apt-get install');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/nx run-many -t typecheck test generate summary verify/);
  });

  it('pins the toolchain the workspace needs', () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string>; engines: Record<string, string> };
    expect(pkg.devDependencies.nx).toBe('23.3.1');
    expect(pkg.devDependencies['@nx/js']).toBe('23.3.1');
    expect(pkg.devDependencies.typescript).toMatch(/^~6\.0/);
    expect(pkg.devDependencies.node).toMatch(/^~24\./);
    expect(pkg.engines.node).toBe('>=24 <25');
    const nx = JSON.parse(read('nx.json')) as Record<string, unknown>;
    expect([nx.neverConnectToCloud, nx.analytics, nx.cacheDirectory]).toEqual([true, false, '.nx/cache']);
  });

  it('records every platform build of nx in package-lock.json, so npm ci accepts the lock on any machine', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, unknown> };
    const nx = JSON.parse(read('node_modules/nx/package.json')) as { optionalDependencies: Record<string, string> };
    const missing = Object.keys(nx.optionalDependencies).filter((name) => !(`node_modules/${name}` in lock.packages));
    expect(missing, 'add them to package-lock.json (optional, with their os/cpu): see docs/workspace.md').toEqual([]);
  });
});

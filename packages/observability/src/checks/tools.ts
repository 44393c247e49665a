import { execFile as execFileCallback } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, hasCommand } from '@groundwork/kit';
import type { KubeObject } from '@groundwork/kube';

/** The Debian package that brings each tool, for the message when one is missing. */
export const TOOL_PACKAGES: Record<string, string> = { promtool: 'prometheus', amtool: 'prometheus-alertmanager' };

export function missingToolNote(tool: string, what: string): string {
  return `${tool} is not installed: ${what} not checked (install it: apt-get install ${TOOL_PACKAGES[tool]})`;
}

/**
 * A note when the tool on PATH is not the release the cluster runs (Debian's promtool is 2.42, the cluster's
 * Prometheus 3.14): a rule or configuration one accepts, the other may not.
 */
const versions = new Map<string, string | undefined>();
export function versionNotes(tool: string, image: string): string[] {
  const wanted = image.slice(image.lastIndexOf(':') + 1).replace(/^v/, '');
  // Asked once per run, not once per cluster.
  if (!versions.has(tool)) versions.set(tool, /version (\S+)/.exec(run(tool, ['--version'], tmpdir()).output)?.[1]);
  const found = versions.get(tool);
  return found === wanted ? [] : [`${tool} ${found ?? '(version unknown)'} checked this, the cluster runs ${wanted}: checks may differ (to check with ${wanted}, put the pinned build first on PATH: npx tsx packages/testkit/src/build-programs.ts --check names its folder)`];
}

export function run(tool: string, args: string[], cwd: string): { ok: boolean; output: string } {
  const result = execFile(tool, args, { cwd, timeoutMs: 120_000 });
  const output = `${result.stdout.toString()}${result.stderr.toString()}`.trim();
  return { ok: result.status === 0, output };
}

/** The same, without waiting: for many slow-but-idle runs side by side (service discovery waits out its timeout). */
export function runAsync(tool: string, args: string[], cwd: string): Promise<{ ok: boolean; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFileCallback(tool, args, { cwd, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout: String(stdout), output: `${String(stdout)}${String(stderr)}`.trim() });
    });
  });
}

export async function inScratch<T>(work: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-obs-'));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export { hasCommand };

/** A rendered ConfigMap's data, by name. */
export function configMapData(objects: KubeObject[], name: string): Record<string, string> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  if (!cm) throw new Error(`the rendered objects have no ConfigMap ${name}`);
  return (cm.data as Record<string, string>) ?? {};
}

/** Only the lines that say what went wrong (promtool and amtool also print their banner). */
export function summarize(output: string): string {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(Checking|SUCCESS|Unit Testing|Found:|- )/.test(l))
    .slice(0, 12)
    .join(' | ');
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { exampleCluster, scratchDir } from '@groundwork/testkit';
import { programPath } from '@groundwork/testkit/programs';
import { bootMedia } from '../cluster-render.ts';
import { RECORD_FILE, registerSchematics, schematicsNeeded, unregistered } from './schematics.ts';

/**
 * Registration against the Image Factory's schematic API, played by a stand-in (tools/go/talos/factory) that
 * computes IDs with go-yaml v4 as the factory does, independently of our own computation.
 */

const log = createLogger('test', { write: () => true } as unknown as NodeJS.WritableStream);
const inScratch = (name: string): LoadedCluster => {
  const cluster = exampleCluster(name);
  const dir = join(scratchDir('gw-schematics-'), name);
  mkdirSync(join(dir, 'talos'), { recursive: true });
  return { ...cluster, dir };
};

describe('Image Factory schematics, registered before an installer is used', () => {
  let factory: ChildProcess;
  let url = '';

  beforeAll(async () => {
    factory = spawn(programPath('image-factory-standin'), ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      factory.stdout!.once('data', (chunk: Buffer) => resolve(/listening on (\S+)/.exec(chunk.toString())![1]!));
      factory.once('exit', (code) => reject(new Error(`the stand-in exited with ${code}`)));
    });
  });
  afterAll(() => factory?.kill());

  it('registers each schematic the nodes need once, gets back the ID the configs carry, and then serves its images', async () => {
    for (const name of ['pi-fleet', 'proxmox-ha', 'metal-ha']) {
      const cluster = inScratch(name);
      const needed = schematicsNeeded(cluster);
      expect(needed.length, name).toBeGreaterThan(0);
      const image = (id: string) => fetch(`${url}/image/${id}/v1.13.9/metal-amd64.iso`).then((r) => r.status);
      for (const need of needed) expect(await image(need.id)).toBe(404);
      const outcome = await registerSchematics(cluster, { factory: url, log });
      expect(outcome, name).toEqual({ problems: [], registered: needed.map((n) => n.id) });
      for (const need of needed) expect(await image(need.id)).toBe(200);
      expect(readFileSync(join(cluster.dir, 'talos', RECORD_FILE), 'utf8')).toContain(needed[0]!.id);
      expect(unregistered(cluster, url)).toEqual([]);
    }
  });

  it('works offline once the answer is remembered, and asks again for another factory', async () => {
    const cluster = inScratch('pi-fleet');
    await registerSchematics(cluster, { factory: url, log });
    let asked = 0;
    const offline = (async () => {
      asked++;
      throw new Error('offline');
    }) as unknown as typeof fetch;
    expect(await registerSchematics(cluster, { factory: url, log, fetch: offline })).toEqual({ problems: [], registered: [] });
    expect(asked).toBe(0);
    const other = await registerSchematics(cluster, { factory: 'https://factory.example.org', log, fetch: offline });
    expect(other.problems).toEqual([`schematic ${schematicsNeeded(cluster)[0]!.id.slice(0, 12)}… (pi-cp-1, pi-w-1, pi-w-2, pi-w-3): cannot reach https://factory.example.org (offline); the installer and images 404 until it is registered`]);
  });

  it('refuses an ID other than the one in the machine configs, and registers nothing in a dry run', async () => {
    const cluster = inScratch('metal-ha');
    const lying = (async () => new Response(JSON.stringify({ id: 'f'.repeat(64) }), { status: 201 })) as unknown as typeof fetch;
    const outcome = await registerSchematics(cluster, { factory: url, log, fetch: lying });
    expect(outcome.registered).toEqual([]);
    expect(outcome.problems[0]).toMatch(/registered it as f{64}, not the ID in the machine configs/);
    expect(existsSync(join(cluster.dir, 'talos', RECORD_FILE))).toBe(false);
    expect(await registerSchematics(cluster, { factory: url, log, dryRun: true })).toEqual({ problems: [], registered: [] });
    expect(unregistered(cluster, url).length).toBeGreaterThan(0);
  });

  it('says in boot-media.md which schematics are not registered yet, and how to register them', async () => {
    const cluster = inScratch('pi-fleet');
    expect(bootMedia(cluster)).toContain('Not registered with the Image Factory yet');
    await registerSchematics(cluster, { factory: 'https://factory.talos.dev', log, fetch: (async (_u: string, init: RequestInit) => fetch(`${url}/schematics`, init)) as unknown as typeof fetch });
    expect(bootMedia(cluster)).not.toContain('Not registered');
  });
});

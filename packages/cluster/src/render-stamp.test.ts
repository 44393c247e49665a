import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderedDir } from '@groundwork/kit';
import { runLayerScript, type LayerScript } from './layer-script.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'valid');

/** Two clusters and a layer whose generate renders one file per cluster and counts what it rendered. */
function workspace(): { root: string; rendered: string[]; script: LayerScript } {
  const root = mkdtempSync(join(tmpdir(), 'gw-stamp-'));
  writeFileSync(join(root, 'nx.json'), '{}');
  mkdirSync(join(root, 'packages', 'fake', 'src'), { recursive: true });
  writeFileSync(join(root, 'packages', 'fake', 'src', 'render.ts'), 'export const version = 1;\n');
  for (const name of ['proxmox-ha', 'pi-fleet']) {
    mkdirSync(join(root, 'clusters', name), { recursive: true });
    writeFileSync(join(root, 'clusters', name, 'cluster.yaml'), readFileSync(join(fixtures, `${name}.yaml`), 'utf8').replace(/^name: fixture$/m, `name: ${name}`));
  }
  const rendered: string[] = [];
  const script: LayerScript = {
    layer: 'fake',
    action: 'generate',
    description: 'renders one file',
    run: async ({ root: at, cluster }) => {
      rendered.push(cluster.name);
      mkdirSync(renderedDir(at, cluster.name, 'fake'), { recursive: true });
      writeFileSync(join(renderedDir(at, cluster.name, 'fake'), 'out.txt'), readFileSync(join(at, 'clusters', cluster.name, 'cluster.yaml')));
      return { problems: [], notes: [`note for ${cluster.name}`], summary: 'one file' };
    },
  };
  return { root, rendered, script };
}

describe('generate renders only the clusters whose inputs changed since their last rendering', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.restoreAllMocks();
  });

  async function generate(ws: ReturnType<typeof workspace>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; log: string; rendered: string[] }> {
    process.env = { ...saved, GROUNDWORK_ROOT: ws.root, ...env };
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    const before = ws.rendered.length;
    const code = await runLayerScript(ws.script, ['--cluster=*']);
    vi.restoreAllMocks();
    return { code, log: lines.join(''), rendered: ws.rendered.slice(before).sort() };
  }

  it('keeps unchanged renderings (saying so, with their notes), renders an edited cluster, a deleted rendering, and all on request', async () => {
    const ws = workspace();
    try {
      const first = await generate(ws);
      expect(first.code, first.log).toBe(0);
      expect(first.rendered).toEqual(['pi-fleet', 'proxmox-ha']);
      const again = await generate(ws);
      expect(again.code).toBe(0);
      expect(again.rendered).toEqual([]);
      expect(again.log).toContain('· [fake:generate] pi-fleet: note for pi-fleet');
      expect(again.log).toMatch(/✓ \[fake:generate\] pi-fleet: one file; kept: cluster files, code and settings unchanged since/);

      appendFileSync(join(ws.root, 'clusters', 'pi-fleet', 'cluster.yaml'), '# edited\n');
      expect((await generate(ws)).rendered).toEqual(['pi-fleet']);
      // A file of the cluster other than its cluster file (a secret, a patch) counts too.
      writeFileSync(join(ws.root, 'clusters', 'proxmox-ha', 'extra.yaml'), 'x: 1\n');
      expect((await generate(ws)).rendered).toEqual(['proxmox-ha']);

      rmSync(renderedDir(ws.root, 'proxmox-ha', 'fake'), { recursive: true });
      expect((await generate(ws)).rendered).toEqual(['proxmox-ha']);
      // A rendered file changed by hand is rendered again.
      writeFileSync(join(renderedDir(ws.root, 'pi-fleet', 'fake'), 'out.txt'), 'edited by hand\n');
      expect((await generate(ws)).rendered).toEqual(['pi-fleet']);
      // The code and the settings in the environment are inputs of every cluster.
      writeFileSync(join(ws.root, 'packages', 'fake', 'src', 'render.ts'), 'export const version = 2;\n');
      expect((await generate(ws)).rendered).toEqual(['pi-fleet', 'proxmox-ha']);
      expect((await generate(ws, { SOPS_AGE_KEY_FILE: '/elsewhere/key' })).rendered).toEqual(['pi-fleet', 'proxmox-ha']);
      expect((await generate(ws, { SOPS_AGE_KEY_FILE: '/elsewhere/key', GROUNDWORK_RENDER_ALL: '1' })).rendered).toEqual(['pi-fleet', 'proxmox-ha']);
    } finally {
      rmSync(ws.root, { recursive: true, force: true });
    }
  });
});

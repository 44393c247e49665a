import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { writeFileAtomic, type Logger } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { nodeImages, schematicYaml, type Schematic } from '../config/platform.ts';
import { IMAGE_FACTORY } from '../versions.ts';

/**
 * The Image Factory serves images and installers only for schematics someone registered (POST /schematics);
 * any other ID answers 404. Before an installer is used, each schematic the cluster needs is registered, and the
 * ID the factory returns must be the one computed offline (it is in every machine config already). The answer
 * is remembered in clusters/<name>/talos/schematics.yaml, committed with the cluster, so later runs work
 * offline.
 */

export const RECORD_FILE = 'schematics.yaml';

export interface SchematicNeed {
  id: string;
  schematic: Schematic;
  nodes: string[];
}

interface Record {
  /** Schematic ID to the factory that confirmed it. */
  registered: { [id: string]: { factory: string } };
}

export const factoryUrl = (env: NodeJS.ProcessEnv) => (env.GROUNDWORK_IMAGE_FACTORY ?? `https://${IMAGE_FACTORY.host}`).replace(/\/+$/, '');
const recordPath = (cluster: LoadedCluster) => join(cluster.dir, 'talos', RECORD_FILE);

/** The Image Factory schematics the cluster's nodes use (stock installers need none), each with its nodes. */
export function schematicsNeeded(cluster: LoadedCluster): SchematicNeed[] {
  const needs = new Map<string, SchematicNeed>();
  for (const node of cluster.config.nodes) {
    if (node.platform === 'docker') continue;
    const images = nodeImages(cluster.config, node);
    if (!images.installer.startsWith(IMAGE_FACTORY.host)) continue;
    const need = needs.get(images.schematicId) ?? { id: images.schematicId, schematic: images.schematic, nodes: [] };
    need.nodes.push(node.name);
    needs.set(need.id, need);
  }
  return [...needs.values()];
}

function readRecord(cluster: LoadedCluster): Record {
  const path = recordPath(cluster);
  if (!existsSync(path)) return { registered: {} };
  const raw = parse(readFileSync(path, 'utf8')) as Partial<Record> | null;
  return { registered: { ...(raw?.registered ?? {}) } };
}

/** Schematics not yet confirmed by `factory`, from what the record remembers. */
export function unregistered(cluster: LoadedCluster, factory: string): SchematicNeed[] {
  const record = readRecord(cluster);
  return schematicsNeeded(cluster).filter((need) => record.registered[need.id]?.factory !== factory);
}

export interface RegisterOptions {
  factory: string;
  dryRun?: boolean;
  log: Logger;
  fetch?: typeof fetch;
}

/** Registers what is missing; problems name the nodes whose installer or image would not exist. */
export async function registerSchematics(cluster: LoadedCluster, options: RegisterOptions): Promise<{ problems: string[]; registered: string[] }> {
  const missing = unregistered(cluster, options.factory);
  const problems: string[] = [];
  const registered: string[] = [];
  const record = readRecord(cluster);
  for (const need of missing) {
    const what = `schematic ${need.id.slice(0, 12)}… (${need.nodes.join(', ')})`;
    if (options.dryRun) {
      options.log.info(`[dry run] would register ${what} with ${options.factory}`);
      continue;
    }
    options.log.info(`registering ${what} with ${options.factory}`);
    let answer: { id?: string };
    try {
      const response = await (options.fetch ?? fetch)(`${options.factory}/schematics`, { method: 'POST', body: schematicYaml(need.schematic), signal: AbortSignal.timeout(30_000) });
      const text = await response.text();
      if (!response.ok) {
        problems.push(`${what}: ${options.factory} refused it (${response.status}: ${text.trim().slice(0, 200)})`);
        continue;
      }
      answer = JSON.parse(text) as { id?: string };
    } catch (error) {
      problems.push(`${what}: cannot reach ${options.factory} (${(error as Error).message}); the installer and images 404 until it is registered`);
      continue;
    }
    if (answer.id !== need.id) {
      problems.push(`${what}: ${options.factory} registered it as ${answer.id}, not the ID in the machine configs; the installer would not exist`);
      continue;
    }
    record.registered[need.id] = { factory: options.factory };
    registered.push(need.id);
  }
  if (registered.length) writeFileAtomic(recordPath(cluster), `# Image Factory schematics confirmed registered (talos-config apply and gw-talos schematics write this).\n${stringify(record)}`);
  return { problems, registered };
}

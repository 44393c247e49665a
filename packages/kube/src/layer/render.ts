import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { PRIVATE_FILE_MODE, renderedDir, type OutputFile } from '@groundwork/kit';
import type { LoadedCluster } from '@groundwork/cluster';
import { LABELS, MANAGED_BY } from '../build/labels.ts';
import { describe, objectKey, toPlain, type KubeObject } from '../model/object.ts';
import { compareObjects } from '../model/order.ts';
import { parseYamlStream, toYamlStream } from '../model/yaml.ts';
import type { Component, EncryptedSecret } from './definition.ts';

export interface RenderedComponent {
  name: string;
  description: string;
  wave: number;
  objects: KubeObject[];
}

export interface RenderedLayer {
  layer: string;
  cluster: string;
  components: RenderedComponent[];
  secrets: EncryptedSecret[];
}

export const INDEX_FILE = 'index.yaml';
/** Marks a rendered folder as a Kubernetes layer's (other layers keep their own index.yaml). */
const INDEX_KIND = 'KubernetesLayer';
const secretFile = (s: Pick<EncryptedSecret, 'namespace' | 'name'>) => `secrets/${s.namespace}.${s.name}.sops.yaml`;

/** Stamps groundwork's labels on every object, puts objects in apply order, and refuses duplicates. */
export function renderComponents(layer: string, cluster: LoadedCluster, components: Component[]): RenderedComponent[] {
  const seen = new Map<string, string>();
  const names = new Set<string>();
  return components.map((component) => {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(component.name)) throw new Error(`${layer}: component name "${component.name}" must be a DNS label`);
    if (names.has(component.name)) throw new Error(`${layer}: two components are named ${component.name}`);
    names.add(component.name);
    const objects = component.objects.map((typed) => {
      const object = toPlain(typed);
      object.metadata.labels = {
        ...object.metadata.labels,
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.layer]: layer,
        [LABELS.cluster]: cluster.name,
        [LABELS.groundworkComponent]: component.name,
      };
      const key = objectKey(object);
      if (seen.has(key)) throw new Error(`${layer}: ${describe(object)} is rendered by both ${seen.get(key)} and ${component.name}`);
      seen.set(key, component.name);
      return object;
    });
    return { name: component.name, description: component.description, wave: component.wave ?? 1, objects: objects.sort(compareObjects) };
  });
}

export function allObjects(rendered: Pick<RenderedLayer, 'components'>): KubeObject[] {
  return rendered.components.flatMap((c) => c.objects);
}

/** Objects grouped by apply wave, lowest first. */
export function waves(rendered: Pick<RenderedLayer, 'components'>): KubeObject[][] {
  const numbers = [...new Set(rendered.components.map((c) => c.wave))].sort((a, b) => a - b);
  return numbers.map((n) => rendered.components.filter((c) => c.wave === n).flatMap((c) => c.objects));
}

/** The files of clusters/<name>/rendered/<layer>/: one YAML per component, the index, the encrypted Secrets, reports. */
export function layerFiles(rendered: RenderedLayer, reports: Record<string, string>): OutputFile[] {
  const header = (c: RenderedComponent) => `${rendered.layer}/${c.name} for cluster ${rendered.cluster}: ${c.description}\nRendered by groundwork; do not edit (npx nx run ${rendered.layer}:generate --cluster=${rendered.cluster}).`;
  const files: OutputFile[] = rendered.components.map((c) => ({ path: `${c.name}.yaml`, data: toYamlStream(c.objects, header(c)) }));
  const index = {
    kind: INDEX_KIND,
    layer: rendered.layer,
    cluster: rendered.cluster,
    components: rendered.components.map((c) => ({ name: c.name, file: `${c.name}.yaml`, wave: c.wave, objects: c.objects.length, description: c.description })),
    secrets: rendered.secrets.map((s) => ({ namespace: s.namespace, name: s.name, file: secretFile(s) })),
  };
  files.push({ path: INDEX_FILE, data: `# Rendered by groundwork; do not edit.\n${stringify(index, { lineWidth: 0 })}` });
  for (const secret of rendered.secrets) files.push({ path: secretFile(secret), data: secret.data, mode: PRIVATE_FILE_MODE });
  for (const [name, text] of Object.entries(reports)) files.push({ path: name, data: text });
  return files;
}

interface IndexFile {
  layer: string;
  cluster: string;
  components: Array<{ name: string; file: string; wave: number; description: string }>;
  secrets: Array<{ namespace: string; name: string; file: string }>;
}

/** Reads a layer's rendered folder back (verify and apply work from what is on disk). */
export function readRenderedLayer(root: string, cluster: string, layer: string): RenderedLayer | undefined {
  const dir = renderedDir(root, cluster, layer);
  const indexPath = join(dir, INDEX_FILE);
  if (!existsSync(indexPath)) return undefined;
  const index = parse(readFileSync(indexPath, 'utf8')) as IndexFile & { kind?: string };
  if (index?.kind !== INDEX_KIND) return undefined;
  return {
    layer: index.layer,
    cluster: index.cluster,
    components: index.components.map((c) => ({
      name: c.name,
      description: c.description,
      wave: c.wave,
      objects: parseYamlStream(readFileSync(join(dir, c.file), 'utf8'), `clusters/${cluster}/rendered/${layer}/${c.file}`),
    })),
    secrets: index.secrets.map((s) => ({ namespace: s.namespace, name: s.name, data: new Uint8Array(readFileSync(join(dir, s.file))) })),
  };
}

/** Every Kubernetes layer rendered for the cluster so far, with its objects (Secrets stay encrypted files and are not among them). */
export function renderedLayers(root: string, cluster: string): Array<{ name: string; objects: KubeObject[] }> {
  const base = join(root, 'clusters', cluster, 'rendered');
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .sort()
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => {
      const rendered = readRenderedLayer(root, cluster, name);
      return rendered ? [{ name, objects: allObjects(rendered) }] : [];
    });
}

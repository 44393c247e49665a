import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppSchema } from './apps.ts';
import { ClusterSchema } from './schema.ts';

/** Where the exported JSON Schema is committed, so editors can complete and check cluster files. */
export const SCHEMA_FILE = fileURLToPath(new URL('../cluster.schema.json', import.meta.url));
/** The same for app files (clusters/<name>/apps/<app>.yaml). */
export const APP_SCHEMA_FILE = fileURLToPath(new URL('../app.schema.json', import.meta.url));

/**
 * JSON Schema for editors (yaml-language-server). It describes the input side: fields with defaults are optional.
 * Cross-field rules (addresses inside the node CIDR, unique names, ...) are only checked by groundwork itself.
 */
export function clusterJsonSchema(): string {
  return jsonSchema(ClusterSchema, 'cluster.schema.json', 'groundwork cluster file (clusters/<name>/cluster.yaml)');
}

export function appJsonSchema(): string {
  return jsonSchema(AppSchema, 'app.schema.json', 'groundwork app file (clusters/<name>/apps/<app>.yaml)');
}

function jsonSchema(type: z.ZodType, file: string, title: string): string {
  const schema = z.toJSONSchema(type, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const document = {
    $schema: schema.$schema,
    $id: `https://groundwork.dev/schemas/${file}`,
    title,
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

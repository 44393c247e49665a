import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ClusterSchema } from './schema.ts';

/** Where the exported JSON Schema is committed, so editors can complete and check cluster files. */
export const SCHEMA_FILE = fileURLToPath(new URL('../cluster.schema.json', import.meta.url));

/**
 * JSON Schema for editors (yaml-language-server). It describes the input side: fields with defaults are optional.
 * Cross-field rules (addresses inside the node CIDR, unique names, ...) are only checked by groundwork itself.
 */
export function clusterJsonSchema(): string {
  const schema = z.toJSONSchema(ClusterSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const document = {
    $schema: schema.$schema,
    $id: 'https://groundwork.dev/schemas/cluster.schema.json',
    title: 'groundwork cluster file (clusters/<name>/cluster.yaml)',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

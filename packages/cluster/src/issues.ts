import type { z } from 'zod';
import { formatPath, type Finding } from './validate.ts';

/** Turns schema issues into findings that read like the rest of groundwork's messages. */
export function findingsFromZod(error: z.ZodError, root: z.ZodType): Finding[] {
  const findings: Finding[] = [];
  for (const issue of error.issues) {
    const path = formatPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(root, issue.path);
        for (const key of issue.keys) {
          const suggestion = closest(key, known);
          findings.push({
            path: formatPath([...issue.path, key]),
            message: `unknown field${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
          });
        }
        break;
      }
      case 'invalid_type':
        findings.push({
          path,
          message: issue.input === undefined ? 'required' : `must be ${article(issue.expected)} (got ${describe(issue.input)})`,
        });
        break;
      case 'invalid_value':
        findings.push({
          path,
          message:
            issue.input === undefined
              ? 'required'
              : issue.values.length === 1
              ? `must be ${JSON.stringify(issue.values[0])} (got ${describe(issue.input)})`
              : `must be one of ${issue.values.map((v) => String(v)).join(', ')} (got ${describe(issue.input)})`,
        });
        break;
      default: {
        const input = 'input' in issue && typeof issue.input === 'string' ? ` (got "${issue.input}")` : '';
        findings.push({ path, message: `${issue.message}${input}` });
      }
    }
  }
  return findings;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return String(value);
}

interface ZodInternals {
  _zod: { def: { type: string; innerType?: ZodInternals; in?: ZodInternals; shape?: Record<string, ZodInternals>; element?: ZodInternals } };
}

function unwrap(schema: ZodInternals): ZodInternals {
  let current = schema;
  for (;;) {
    const def = current._zod.def;
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

/** The field names the schema accepts at a path, for "did you mean" hints. */
function knownKeysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = unwrap(root as unknown as ZodInternals);
  for (const part of path) {
    const def = current._zod.def;
    if (typeof part === 'number' && def.element) current = unwrap(def.element);
    else if (typeof part === 'string' && def.shape?.[part]) current = unwrap(def.shape[part]);
    else return [];
  }
  return Object.keys(current._zod.def.shape ?? {});
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = saved;
    }
  }
  return row[b.length]!;
}

function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

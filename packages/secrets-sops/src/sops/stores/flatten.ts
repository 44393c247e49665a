import { Comment, Mapping, Sequence, type Value } from '../values.ts';
import { SopsError } from '../errors.ts';

/**
 * Flat formats (dotenv, INI) store the metadata mapping as flat keys: `age__list_0__map_enc`
 * (stores/flatten.go). Unflattening sorts map keys, as sops does.
 */
const MAP_SEPARATOR = '__map_';
const LIST_SEPARATOR = '__list_';

export function flattenMapping(mapping: Mapping, prefix: string): Array<[string, Value]> {
  const out: Array<[string, Value]> = [];
  const seen = new Set<string>();
  const descend = (value: Value, key: string) => {
    if (value instanceof Mapping) {
      for (const entry of value.entries()) descend(entry.value, `${key}${MAP_SEPARATOR}${String(entry.key)}`);
    } else if (value instanceof Sequence) {
      let i = 0;
      for (const item of value.items) {
        if (item instanceof Comment) continue;
        descend(item, `${key}${LIST_SEPARATOR}${i++}`);
      }
    } else {
      if (seen.has(key)) throw new SopsError(`Found key collision "${key}" while flattening`);
      seen.add(key);
      out.push([key, value]);
    }
  };
  for (const entry of mapping.entries()) descend(entry.value, `${prefix}${String(entry.key)}`);
  return out;
}

type Token = { kind: 'map'; key: string } | { kind: 'list'; index: number };

function tokenize(path: string): Token[] {
  const tokens: Token[] = [];
  let state: 'normal' | 'map' | 'list' = 'normal';
  let start = 0;
  let i = 0;
  const finish = () => {
    if (state === 'list') tokens.push({ kind: 'list', index: Number(path.slice(start + LIST_SEPARATOR.length, i)) || 0 });
    else tokens.push({ kind: 'map', key: path.slice(state === 'map' ? start + MAP_SEPARATOR.length : start, i) });
    start = i;
  };
  while (i < path.length) {
    if (path.startsWith(MAP_SEPARATOR, i)) {
      finish();
      state = 'map';
      i += MAP_SEPARATOR.length;
    } else if (path.startsWith(LIST_SEPARATOR, i)) {
      finish();
      state = 'list';
      i += LIST_SEPARATOR.length;
    } else i++;
  }
  finish();
  return tokens;
}

interface Node {
  value?: { v: Value };
  keys?: Map<string, Node>;
  indices?: Map<number, Node>;
}

function build(node: Node): Value {
  const kinds = Number(node.value !== undefined) + Number((node.keys?.size ?? 0) > 0) + Number((node.indices?.size ?? 0) > 0);
  if (kinds > 1) throw new SopsError('Error while unflattening: Type mismatch');
  if (node.value) return node.value.v;
  if (node.keys?.size) {
    const keys = [...node.keys.keys()].sort();
    return new Mapping(keys.map((key) => ({ key, value: build(node.keys!.get(key)!) })));
  }
  if (node.indices?.size) {
    const max = Math.max(...node.indices.keys());
    if (Math.min(...node.indices.keys()) !== 0 || max + 1 !== node.indices.size) throw new SopsError('Error while unflattening: Incomplete list');
    return new Sequence(Array.from({ length: max + 1 }, (_, i) => build(node.indices!.get(i)!)));
  }
  return new Mapping();
}

export function unflattenEntries(entries: Array<[string, Value]>): Mapping {
  const root: Node = {};
  for (const [key, value] of entries) {
    let node = root;
    for (const token of tokenize(key)) {
      if (token.kind === 'map') {
        node.keys ??= new Map();
        if (!node.keys.has(token.key)) node.keys.set(token.key, {});
        node = node.keys.get(token.key)!;
      } else {
        node.indices ??= new Map();
        if (!node.indices.has(token.index)) node.indices.set(token.index, {});
        node = node.indices.get(token.index)!;
      }
    }
    if (node.value) throw new SopsError(`Error while unflattening "${key}": Duplicate value`);
    node.value = { v: value };
  }
  const result = build(root);
  if (!(result instanceof Mapping)) throw new SopsError('Internal error: cannot find root');
  return result;
}

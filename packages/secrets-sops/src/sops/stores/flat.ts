import { Comment, GoFloat, GoTime, Mapping, Sequence, type Branches, type Value, formatFloatG } from '../values.ts';
import { SopsError, codes } from '../errors.ts';
import { flattenMapping, unflattenEntries } from './flatten.ts';
import { jsonStore } from './json.ts';
import type { Store, StoreOptions } from './store.ts';

/** stores.ValToString: how non-string values are written in flat formats. */
export function valueToText(value: Value): string {
  if (typeof value === 'string') return value;
  if (value === null) return '<nil>';
  if (value instanceof GoFloat) {
    const g = formatFloatG(value.value).toUpperCase().replace('INF', 'Inf').replace('NAN', 'NaN');
    return /[.E]/.test(g) || !Number.isFinite(value.value) ? g : `${g}.0`;
  }
  if (value instanceof GoTime) return value.text;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Mapping || value instanceof Sequence) throw new SopsError('cannot write a nested value in a flat format', codes.ErrorDumpingTree);
  return value.value.toString();
}

const SOPS_PREFIX = 'sops_';

/**
 * dotenv (stores/dotenv): KEY=VALUE lines, nothing trimmed, `\n` escapes for newlines, `#` comments.
 * Metadata is flattened into `sops_…` keys.
 */
export function dotenvStore(): Store {
  const encoder = new TextEncoder();
  const load = (bytes: Uint8Array): Branches => {
    const items: Mapping['items'] = [];
    new TextDecoder().decode(bytes).split('\n').forEach((line, index) => {
      if (line.length === 0) return;
      if (line.startsWith('#')) {
        items.push(new Comment(line.slice(1)));
        return;
      }
      const eq = line.indexOf('=');
      // The line itself is not quoted back: it may hold a secret.
      if (eq === -1) throw new SopsError(`Error unmarshalling file: invalid dotenv input line ${index + 1}: no "=" found`, codes.CouldNotReadInputFile);
      items.push({ key: line.slice(0, eq), value: line.slice(eq + 1).replaceAll('\\n', '\n') });
    });
    return [new Mapping(items)];
  };
  const emit = (branches: Branches): Uint8Array => {
    let out = '';
    for (const item of branches[0]?.items ?? []) {
      if (item instanceof Comment) {
        out += `#${item.value}\n`;
        continue;
      }
      if (item.value instanceof Mapping || item.value instanceof Sequence) {
        throw new SopsError(`cannot use complex value in dotenv file; offending key ${String(item.key)}`, codes.ErrorDumpingTree);
      }
      out += `${String(item.key)}=${valueToText(item.value).replaceAll('\n', '\\n')}\n`;
    }
    return encoder.encode(out);
  };
  return {
    format: 'dotenv',
    loadPlain: load,
    emitPlain: emit,
    loadEncrypted(bytes) {
      const [branch] = load(bytes);
      const data: Mapping['items'] = [];
      const meta: Array<[string, Value]> = [];
      for (const item of branch!.items) {
        if (!(item instanceof Comment) && typeof item.key === 'string' && item.key.startsWith(SOPS_PREFIX)) meta.push([item.key.slice(SOPS_PREFIX.length), item.value]);
        else data.push(item);
      }
      if (meta.length === 0) throw new SopsError('sops metadata not found', codes.ErrorGeneric);
      return { branches: [new Mapping(data)], metadata: unflattenEntries(meta) };
    },
    emitEncrypted(branches, metadata) {
      const branch = branches[0] ?? new Mapping();
      for (const entry of branch.entries()) {
        if (String(entry.key).startsWith(SOPS_PREFIX)) {
          throw new SopsError(`Found key "${String(entry.key)}" in encrypted data, which starts with the reserved key prefix "sops_" for SOPS metadata`, codes.FileAlreadyEncrypted);
        }
      }
      const flat = flattenMapping(metadata, SOPS_PREFIX).map(([key, value]) => ({ key, value }));
      return emit([new Mapping([...branch.items, ...flat])]);
    },
    emitValue(value) {
      if (typeof value === 'string') return encoder.encode(value);
      throw new SopsError('the dotenv store only supports emitting strings', codes.ErrorDumpingTree);
    },
    hasMetadata: (branches) => (branches[0]?.entries() ?? []).some((e) => typeof e.key === 'string' && e.key.startsWith(SOPS_PREFIX)),
  };
}

/** Binary files: the whole file is the single value `data`, inside sops's JSON envelope. */
export function binaryStore(options: StoreOptions = {}): Store {
  const json = jsonStore(options);
  return {
    format: 'binary',
    loadPlain(bytes) {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      const exact = Buffer.from(text, 'utf8').equals(Buffer.from(bytes));
      return [new Mapping([{ key: 'data', value: exact ? text : new Uint8Array(bytes) }])];
    },
    emitPlain(branches) {
      if (branches.length !== 1) throw new SopsError('error emitting binary store: there must be exactly one tree branch', codes.ErrorDumpingTree);
      const data = branches[0]!.get('data');
      if (data === undefined) {
        throw new SopsError('error emitting binary store: no binary data found in tree', codes.ErrorDumpingTree, 'This is likely not an encrypted binary file? If not, use --output-type to select the correct output type.');
      }
      if (typeof data === 'string') return new TextEncoder().encode(data);
      if (data instanceof Uint8Array) return data;
      throw new SopsError("error emitting binary store: 'data' key in tree does not have a string value", codes.ErrorDumpingTree);
    },
    loadEncrypted: json.loadEncrypted,
    emitEncrypted: json.emitEncrypted,
    emitValue() {
      throw new SopsError('Binary files are not structured and extracting a single value is not possible', codes.ErrorDumpingTree);
    },
    hasMetadata: json.hasMetadata,
  };
}

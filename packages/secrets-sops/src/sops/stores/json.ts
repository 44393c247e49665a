import { Comment, GoFloat, GoInt, GoTime, Mapping, Sequence, type Branches, type Value, fitsInt64, formatFloatF } from '../values.ts';
import { SopsError, codes } from '../errors.ts';
import { extractMetadata } from '../metadata.ts';
import type { Store, StoreOptions } from './store.ts';

/**
 * JSON as sops handles it: key order kept (a JS object would reorder integer-like keys and break the MAC),
 * numbers typed from their text (1 is int, 1.0 is float), output as Go's json.Indent lays it out.
 */

class Parser {
  private pos = 0;
  private readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  fail(message: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const col = this.pos - before.lastIndexOf('\n');
    throw new SopsError(`Could not unmarshal input data: ${message} at line ${line}, column ${col}`, codes.CouldNotReadInputFile);
  }

  private ws(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos]!)) this.pos++;
  }

  private expect(ch: string): void {
    this.ws();
    if (this.text[this.pos] !== ch) this.fail(`expected "${ch}"`);
    this.pos++;
  }

  document(): Mapping {
    this.ws();
    if (this.text[this.pos] !== '{') {
      if (this.text[this.pos] === '[') {
        throw new SopsError(
          'Could not unmarshal input data: SOPS only supports JSON files with a top-level object (starting with \'{\'), not arrays or other types. To encrypt this file, wrap it in an object, e.g., {"data": [...]}',
          codes.CouldNotReadInputFile,
        );
      }
      this.fail('SOPS only supports JSON files with a top-level object');
    }
    const result = this.object();
    this.ws();
    if (this.pos !== this.text.length) this.fail('unexpected content after the top-level object');
    return result;
  }

  value(): Value {
    this.ws();
    const ch = this.text[this.pos];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    if (this.text.startsWith('true', this.pos)) return (this.pos += 4), true;
    if (this.text.startsWith('false', this.pos)) return (this.pos += 5), false;
    if (this.text.startsWith('null', this.pos)) return (this.pos += 4), null;
    return this.number();
  }

  private object(): Mapping {
    this.expect('{');
    const items: Mapping['items'] = [];
    this.ws();
    if (this.text[this.pos] === '}') return this.pos++, new Mapping(items);
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('expected an object key');
      const key = this.string();
      this.expect(':');
      items.push({ key, value: this.value() });
      this.ws();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] === '}') return this.pos++, new Mapping(items);
      else this.fail('expected "," or "}"');
    }
  }

  private array(): Sequence {
    this.expect('[');
    const items: Value[] = [];
    this.ws();
    if (this.text[this.pos] === ']') return this.pos++, new Sequence(items);
    for (;;) {
      items.push(this.value());
      this.ws();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] === ']') return this.pos++, new Sequence(items);
      else this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (ch === '\\') this.pos += 2;
      else if (ch === '"') {
        this.pos++;
        try {
          return JSON.parse(this.text.slice(start, this.pos)) as string;
        } catch {
          this.pos = start;
          this.fail('invalid string');
        }
      } else if (ch < ' ') this.fail('control character in string');
      else this.pos++;
    }
    return this.fail('unterminated string');
  }

  private number(): GoInt | GoFloat {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match || match[0] === '') this.fail('invalid value');
    this.pos += match[0].length;
    const text = match[0];
    if (/^-?\d+$/.test(text) && fitsInt64(BigInt(text))) return new GoInt(BigInt(text));
    return new GoFloat(Number(text));
  }
}

export function parseJsonMapping(text: string): Mapping {
  return new Parser(text).document();
}

/** Parses one JSON value (used by `set`, whose value argument is JSON). */
export function parseJsonValue(text: string): Value {
  const parser = new Parser(text);
  const value = parser.value();
  return value;
}

/** Go's json.Marshal string escaping: like JSON.stringify plus <, >, & and the line separators as \u escapes. */
function goString(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** encoding/json float formatting: shortest digits, exponent only below 1e-6 or from 1e21. */
function goJsonFloat(value: number): string {
  if (!Number.isFinite(value)) throw new SopsError(`json: unsupported value: ${formatFloatF(value)}`, codes.ErrorDumpingTree);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) return String(value);
  return formatFloatF(value);
}

function scalar(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof GoInt) return value.value.toString();
  if (value instanceof GoFloat) return goJsonFloat(value.value);
  if (value instanceof GoTime) return goString(value.text);
  if (value instanceof Uint8Array) return goString(Buffer.from(value).toString('base64'));
  throw new SopsError('cannot encode value as JSON', codes.ErrorDumpingTree);
}

export function emitJson(value: Value, indentOption = -1, depth = 0): string {
  if (indentOption < -1) throw new SopsError('JSON Indentation parameter smaller than -1 is not accepted', codes.ErrorDumpingTree);
  const unit = indentOption === -1 ? '\t' : ' '.repeat(indentOption);
  const pad = (d: number) => unit.repeat(d);
  if (value instanceof Mapping) {
    const entries = value.entries();
    if (entries.length === 0) return '{}';
    const body = entries.map((e) => `${pad(depth + 1)}${goString(String(e.key))}: ${emitJson(e.value, indentOption, depth + 1)}`);
    return `{\n${body.join(',\n')}\n${pad(depth)}}`;
  }
  if (value instanceof Sequence) {
    const items = value.items.filter((i): i is Value => !(i instanceof Comment));
    if (items.length === 0) return '[]';
    return `[\n${items.map((i) => `${pad(depth + 1)}${emitJson(i, indentOption, depth + 1)}`).join(',\n')}\n${pad(depth)}]`;
  }
  return scalar(value);
}

export function jsonStore(options: StoreOptions = {}): Store {
  const encoder = new TextEncoder();
  const indent = options.indent ?? -1;
  const load = (bytes: Uint8Array) => [parseJsonMapping(new TextDecoder().decode(bytes))];
  return {
    format: 'json',
    loadPlain: load,
    emitPlain: (branches: Branches) => encoder.encode(`${emitJson(branches[0] ?? new Mapping(), indent)}\n`),
    loadEncrypted: (bytes) => extractMetadata(load(bytes)),
    emitEncrypted(branches, metadata) {
      const branch = branches[0] ?? new Mapping();
      if (branch.entries().some((e) => e.key === 'sops')) throw new SopsError('Found key "sops" in encrypted data, which is a reserved key used for SOPS metadata', codes.FileAlreadyEncrypted);
      return encoder.encode(`${emitJson(new Mapping([...branch.items, { key: 'sops', value: metadata }]), indent)}\n`);
    },
    emitValue: (value) => encoder.encode(emitJson(value, indent)),
    hasMetadata: (branches) => (branches[0]?.entries() ?? []).some((e) => e.key === 'sops'),
  };
}

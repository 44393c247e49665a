import { Document, Pair, Scalar, YAMLMap, YAMLSeq, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';
import { Comment, GoFloat, GoInt, GoTime, Mapping, Sequence, type Branches, type Key, type Value, formatFloatG } from '../values.ts';
import { SopsError, codes } from '../errors.ts';
import { extractMetadata } from '../metadata.ts';
import { resolvePlainScalar, resolveTaggedScalar, stringNeedsQuotes } from './yaml-scalars.ts';
import type { Store, StoreOptions } from './store.ts';

/**
 * YAML as sops reads and writes it: every document is a branch, comments are tree items (so they can be
 * encrypted), scalars resolve like yaml.v3, output uses a 4-space indent with indented sequences.
 */

function commentLines(text: string | null | undefined, inline = false): Comment[] {
  if (!text) return [];
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => new Comment(line, inline));
}

function scalarValue(node: Scalar): Value {
  const raw = node.value;
  const text = raw === null || raw === undefined ? '' : String(raw);
  if (node.tag && node.tag !== '!') return resolveTaggedScalar(node.tag, text);
  if (node.type === 'PLAIN' || node.type === undefined) return resolvePlainScalar(text);
  return text;
}

class Reader {
  private readonly doc: Document.Parsed;
  constructor(doc: Document.Parsed) {
    this.doc = doc;
  }

  value(node: unknown, depth = 0): Value {
    if (depth > 200) throw new SopsError('Error unmarshaling input YAML: nesting too deep (alias loop?)', codes.CouldNotReadInputFile);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.value(node.resolve(this.doc), depth + 1);
    if (isMap(node)) return this.mapping(node, depth);
    if (isSeq(node)) return this.sequence(node, depth);
    if (isScalar(node)) return scalarValue(node);
    throw new SopsError('Error unmarshaling input YAML: unsupported node', codes.CouldNotReadInputFile);
  }

  key(node: unknown): Key {
    const value = this.value(node);
    if (value instanceof Mapping || value instanceof Sequence) throw new SopsError('Error unmarshaling input YAML: complex mapping keys are not supported', codes.CouldNotReadInputFile);
    return value;
  }

  mapping(map: YAMLMap, depth: number, leading: Comment[] = [], trailing: Comment[] = []): Mapping {
    const items: Mapping['items'] = [...leading, ...commentLines(map.commentBefore)];
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      items.push(...commentLines(keyNode?.commentBefore), ...commentLines(keyNode?.comment));
      const scalarLike = valueNode === null || isScalar(valueNode) || isAlias(valueNode);
      if (scalarLike && valueNode) items.push(...commentLines(valueNode.commentBefore), ...commentLines(valueNode.comment, true));
      items.push({ key: this.key(keyNode), value: this.value(valueNode, depth + 1) });
      if (!scalarLike && valueNode) items.push(...commentLines(valueNode.comment));
    }
    items.push(...commentLines(map.comment), ...trailing);
    return new Mapping(items);
  }

  sequence(seq: YAMLSeq, depth: number): Sequence {
    const items: Sequence['items'] = [...commentLines(seq.commentBefore)];
    for (const item of seq.items as Array<Node | null>) {
      const scalarLike = item === null || isScalar(item) || isAlias(item);
      if (item) items.push(...commentLines(item.commentBefore));
      if (scalarLike && item) items.push(...commentLines(item.comment, true));
      items.push(this.value(item, depth + 1));
      if (!scalarLike && item) items.push(...commentLines(item.comment));
    }
    items.push(...commentLines(seq.comment));
    return new Sequence(items);
  }

  branch(): Mapping {
    const contents = this.doc.contents;
    const leading = commentLines(this.doc.commentBefore);
    const trailing = commentLines(this.doc.comment);
    if (contents === null || (isScalar(contents) && contents.value === null)) return new Mapping([...leading, ...trailing]);
    if (isMap(contents)) return this.mapping(contents, 0, leading, trailing);
    if (isSeq(contents)) throw new SopsError('Error unmarshaling input YAML: YAML documents that are sequences are not supported', codes.CouldNotReadInputFile);
    throw new SopsError('Error unmarshaling input YAML: YAML documents that are values are not supported', codes.CouldNotReadInputFile);
  }
}

export function parseYamlBranches(text: string): Branches {
  // An empty input parses to an empty stream, which is not an array: no documents.
  const parsed = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: true, merge: false, prettyErrors: true });
  const list = Array.isArray(parsed) ? parsed : [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new SopsError(`Error unmarshaling input YAML: ${error.message.split('\n')[0]}`, codes.CouldNotReadInputFile);
  }
  return list.map((doc) => new Reader(doc).branch());
}

/**
 * Scalars are written as text under the failsafe schema, so the quoting decision is ours and follows
 * yaml.v3: a string that would read back as another type is double-quoted.
 */
function scalarNode(value: Key | Value): Scalar {
  const text = (t: string, type?: Scalar.Type) => Object.assign(new Scalar(t), type ? { type } : {});
  if (value === null) return text('null');
  if (typeof value === 'string') {
    if (value.includes('\n')) return text(value, 'BLOCK_LITERAL');
    return text(value, stringNeedsQuotes(value) ? 'QUOTE_DOUBLE' : undefined);
  }
  if (typeof value === 'boolean') return text(value ? 'true' : 'false');
  if (value instanceof GoInt) return text(value.value.toString());
  if (value instanceof GoFloat) return text(yamlFloat(value.value));
  if (value instanceof GoTime) return text(value.text);
  if (value instanceof Uint8Array) return scalarNode(Buffer.from(value).toString('utf8'));
  throw new SopsError('cannot emit a collection as a YAML key', codes.ErrorDumpingTree);
}

/** Floats keep a form that reads back as a float (1.5, 1e+06, 3.0, .inf), unlike yaml.v3's bare "3". */
function yamlFloat(value: number): string {
  const text = formatFloatG(value);
  if (text === '+Inf') return '.inf';
  if (text === '-Inf') return '-.inf';
  if (text === 'NaN') return '.nan';
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function node(value: Value): Node {
  if (value instanceof Mapping) return mapNode(value);
  if (value instanceof Sequence) return seqNode(value);
  return scalarNode(value);
}

function joinComments(comments: string[]): string | undefined {
  return comments.length ? comments.join('\n') : undefined;
}

/**
 * In the tree a comment comes before what it belongs to: head comments go above the next item, inline
 * comments on its line, and whatever is left trails the collection.
 */
function placeComments<T>(items: Array<T | Comment>, emit: (item: T, head: string | undefined, inline: string | undefined) => void): string | undefined {
  let head: string[] = [];
  let inline: string[] = [];
  for (const item of items) {
    if (item instanceof Comment) {
      (item.inline ? inline : head).push(item.value);
      continue;
    }
    emit(item, joinComments(head), joinComments(inline));
    head = [];
    inline = [];
  }
  return joinComments([...head, ...inline]);
}

function mapNode(mapping: Mapping): YAMLMap {
  const map = new YAMLMap();
  map.comment = placeComments(mapping.items, (entry, head, inline) => {
    const keyNode = scalarNode(entry.key);
    keyNode.commentBefore = head;
    const valueNode = node(entry.value);
    if (inline) valueNode.comment = inline;
    map.items.push(new Pair(keyNode, valueNode));
  });
  return map;
}

function seqNode(sequence: Sequence): YAMLSeq {
  const seq = new YAMLSeq();
  seq.comment = placeComments(sequence.items, (item, head, inline) => {
    const itemNode = node(item);
    itemNode.commentBefore = head;
    if (inline) itemNode.comment = inline;
    seq.items.push(itemNode);
  });
  return seq;
}

const TO_STRING_OPTIONS = {
  indentSeq: true,
  lineWidth: 0,
  minContentWidth: 0,
  flowCollectionPadding: false,
} as const;

function emitNode(contents: Node, indent: number): string {
  const doc = new Document(null, { version: '1.2', schema: 'failsafe' });
  doc.contents = contents as unknown as typeof doc.contents;
  return doc.toString({ ...TO_STRING_OPTIONS, indent });
}

export function emitYaml(branches: Branches, indent = 4): string {
  if (indent < 0) throw new SopsError('YAML Negative indentation not accepted', codes.ErrorDumpingTree);
  return branches.map((branch) => emitNode(mapNode(branch), indent || 4)).join('---\n');
}

export function yamlStore(options: StoreOptions = {}): Store {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return {
    format: 'yaml',
    loadPlain: (bytes) => parseYamlBranches(decoder.decode(bytes)),
    emitPlain: (branches) => encoder.encode(emitYaml(branches, options.indent)),
    loadEncrypted(bytes) {
      return extractMetadata(parseYamlBranches(decoder.decode(bytes)));
    },
    emitEncrypted(branches, metadata) {
      const withMetadata = branches.map((branch) => {
        if (branch.entries().some((e) => e.key === 'sops')) throw new SopsError('Found key "sops" in encrypted data, which is a reserved key used for SOPS metadata', codes.FileAlreadyEncrypted);
        return new Mapping([...branch.items, { key: 'sops', value: metadata }]);
      });
      return encoder.encode(emitYaml(withMetadata, options.indent));
    },
    emitValue: (value) => encoder.encode(emitNode(node(value), options.indent || 4)),
    hasMetadata: (branches) => (branches[0]?.entries() ?? []).some((e) => e.key === 'sops'),
  };
}


import { Comment, Mapping, type Branches, type Value } from '../values.ts';
import { SopsError, codes } from '../errors.ts';
import { flattenMapping, unflattenEntries } from './flatten.ts';
import { valueToText } from './flat.ts';
import type { Store } from './store.ts';

/**
 * INI as sops reads it through go-ini: sections become top-level mappings (keys outside a section go to
 * DEFAULT), every value is a string, `;`/`#` comments attach to the next section or key, an unquoted value
 * ends at an inline `;` or `#`, and `"""` values may span lines. Metadata lives in a `[sops]` section with
 * flattened keys and newlines written as `\n`.
 */

const DEFAULT_SECTION = 'DEFAULT';

interface Section {
  name: string;
  comment: string;
  keys: Array<{ name: string; value: string; comment: string }>;
}

function stripCommentChar(comment: string): string {
  if (comment.startsWith(';')) return comment.replace(/^[; ]+/, '');
  if (comment.startsWith('#')) return comment.replace(/^[# ]+/, '');
  return comment;
}

function parseIni(text: string): Section[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const sections: Section[] = [{ name: DEFAULT_SECTION, comment: '', keys: [] }];
  let current = sections[0]!;
  let comment: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^\s+/, '');
    if (line === '') continue;
    if (line.startsWith('#') || line.startsWith(';')) {
      comment.push(line);
      continue;
    }
    if (line.startsWith('[')) {
      const close = line.indexOf(']');
      if (close === -1) throw new SopsError(`Could not unmarshal input data: unclosed section at line ${i + 1}`, codes.CouldNotReadInputFile);
      current = { name: line.slice(1, close).trim(), comment: comment.join('\n'), keys: [] };
      sections.push(current);
      comment = [];
      continue;
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter === -1) throw new SopsError(`Could not unmarshal input data: key-value delimiter not found at line ${i + 1}`, codes.CouldNotReadInputFile);
    const name = line.slice(0, delimiter).trim().replace(/^(`|")(.*)\1$/, '$2');
    let raw = line.slice(delimiter + 1).replace(/^\s+/, '');
    let value: string;
    const quote = raw.startsWith('"""') && raw.length > 3 ? '"""' : raw.startsWith('`') ? '`' : '';
    if (quote) {
      let body = raw.slice(quote.length);
      while (body.lastIndexOf(quote) === -1 && i + 1 < lines.length) body += `\n${lines[++i]}`;
      const end = body.lastIndexOf(quote);
      if (end === -1) throw new SopsError(`Could not unmarshal input data: unterminated ${quote} value at line ${i + 1}`, codes.CouldNotReadInputFile);
      value = body.slice(0, end);
    } else {
      raw = raw.trim();
      while (raw.endsWith('\\') && i + 1 < lines.length) raw = `${raw.slice(0, -1)}${lines[++i]!.trim()}`;
      const inline = raw.search(/[#;]/);
      if (inline !== -1) {
        comment.push(raw.slice(inline));
        raw = raw.slice(0, inline).trim();
      }
      if (raw.length >= 2 && (raw[0] === '"' || raw[0] === "'") && raw[raw.length - 1] === raw[0]) raw = raw.slice(1, -1);
      value = raw;
    }
    current.keys.push({ name, value, comment: comment.join('\n').trim() });
    comment = [];
  }
  return sections;
}

function sectionsToBranch(sections: Section[]): Mapping {
  const items: Mapping['items'] = [];
  for (const section of sections) {
    if (section.name === DEFAULT_SECTION && section.keys.length === 0 && section.comment === '') continue;
    const entries: Mapping['items'] = [];
    if (section.comment) entries.push(new Comment(stripCommentChar(section.comment)));
    for (const key of section.keys) {
      entries.push({ key: key.name, value: key.value });
      if (key.comment) entries.push(new Comment(stripCommentChar(key.comment)));
    }
    items.push({ key: section.name, value: new Mapping(entries) });
  }
  return new Mapping(items);
}

function commentLines(comment: string): string {
  return comment
    .split('\n')
    .map((line) => (line.startsWith('#') || line.startsWith(';') ? `${line[0]} ${line.slice(1).trim()}` : `; ${line.trim()}`))
    .map((line) => `${line}\n`)
    .join('');
}

function quoteValue(value: string): string {
  if (/[\n`]/.test(value)) return `"""${value}"""`;
  if (/[#;]/.test(value)) return `\`${value}\``;
  if (value.trim().length !== value.length) return `"${value}"`;
  return value;
}

function quoteKey(name: string): string {
  if (/["=:]/.test(name)) return `\`${name}\``;
  if (name.includes('`')) return `"""${name}"""`;
  return name;
}

export function emitIni(branch: Mapping): string {
  let out = '';
  let first = true;
  for (const item of branch.items) {
    if (item instanceof Comment) continue;
    if (!(item.value instanceof Mapping)) throw new SopsError('Error encoding section: Section values should always be TreeBranches', codes.ErrorDumpingTree);
    const keys: Array<{ name: string; value: string; comment: string }> = [];
    let sectionComment = '';
    item.value.items.forEach((entry, index) => {
      if (entry instanceof Comment) {
        if (index === 0) sectionComment = entry.value;
        else if (keys.length > 0) keys[keys.length - 1]!.comment = entry.value;
        return;
      }
      keys.push({ name: String(entry.key), value: valueToText(entry.value as Value), comment: '' });
    });
    const name = String(item.key);
    let part = sectionComment ? commentLines(sectionComment) : '';
    if (!(first && name === DEFAULT_SECTION)) part += `[${name}]\n`;
    else if (keys.length === 0) continue;
    first = false;
    const width = Math.max(0, ...keys.map((k) => quoteKey(k.name).length));
    for (const key of keys) {
      if (key.comment) part += commentLines(key.comment);
      const quoted = quoteKey(key.name);
      part += `${quoted}${' '.repeat(width - quoted.length)} = ${quoteValue(key.value)}\n`;
    }
    // go-ini puts a blank line between sections, none after the last (the real sops CLI's output, real-sops.test.ts).
    out += (out ? '\n' : '') + part;
  }
  return out;
}

export function iniStore(): Store {
  const encoder = new TextEncoder();
  const load = (bytes: Uint8Array): Branches => [sectionsToBranch(parseIni(new TextDecoder().decode(bytes)))];
  return {
    format: 'ini',
    loadPlain: load,
    emitPlain: (branches) => encoder.encode(emitIni(branches[0] ?? new Mapping())),
    loadEncrypted(bytes) {
      const [branch] = load(bytes);
      const data: Mapping['items'] = [];
      let meta: Mapping | undefined;
      for (const item of branch!.items) {
        if (!(item instanceof Comment) && item.key === 'sops' && item.value instanceof Mapping) meta = item.value;
        else data.push(item);
      }
      if (!meta) throw new SopsError('sops metadata not found', codes.ErrorGeneric);
      const entries = meta.entries().map((e): [string, Value] => [String(e.key), typeof e.value === 'string' ? e.value.replaceAll('\\n', '\n') : e.value]);
      return { branches: [new Mapping(data)], metadata: unflattenEntries(entries) };
    },
    emitEncrypted(branches, metadata) {
      const branch = branches[0] ?? new Mapping();
      if (branch.entries().some((e) => e.key === 'sops')) throw new SopsError('Found key "sops" in encrypted data, which is a reserved key used for SOPS metadata', codes.FileAlreadyEncrypted);
      const flat = flattenMapping(metadata, '').map(([key, value]) => ({ key, value: valueToText(value).replaceAll('\n', '\\n') as Value }));
      return encoder.encode(emitIni(new Mapping([...branch.items, { key: 'sops', value: new Mapping(flat) }])));
    },
    emitValue(value) {
      if (value instanceof Mapping) return encoder.encode(emitIni(value));
      return encoder.encode(JSON.stringify(valueToText(value)));
    },
    hasMetadata: (branches) => (branches[0]?.entries() ?? []).some((e) => e.key === 'sops'),
  };
}

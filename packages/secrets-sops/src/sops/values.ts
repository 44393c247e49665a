/**
 * The SOPS tree: ordered mappings and sequences whose leaves carry the Go types sops knows (str, int, float,
 * bool, time, bytes) plus comments. Types are kept as sops sees them, because the type decides the plaintext
 * bytes that are encrypted and hashed into the MAC.
 */

export class GoInt {
  readonly value: bigint;
  constructor(value: bigint | number | string) {
    this.value = BigInt(value);
  }
}

export class GoFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** A time.Time value; sops only produces it when decrypting a `type:time` value. */
export class GoTime {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export class Comment {
  readonly value: string;
  readonly inline: boolean;
  constructor(value: string, inline = false) {
    this.value = value;
    this.inline = inline;
  }
}

/** Uint8Array stands for Go's []byte: a string whose bytes need not be valid UTF-8. */
export type Leaf = string | boolean | GoInt | GoFloat | GoTime | Uint8Array;
export type Value = Leaf | null | Mapping | Sequence;

/** A mapping key as read; anything but a string makes sops refuse the tree when walking it. */
export type Key = string | Leaf | null;

export interface Entry {
  key: Key;
  value: Value;
}

export class Mapping {
  readonly items: Array<Entry | Comment>;
  constructor(items: Array<Entry | Comment> = []) {
    this.items = items;
  }

  get(key: string): Value | undefined {
    for (const item of this.items) if (!(item instanceof Comment) && item.key === key) return item.value;
    return undefined;
  }

  entries(): Entry[] {
    return this.items.filter((item): item is Entry => !(item instanceof Comment));
  }
}

export class Sequence {
  readonly items: Array<Value | Comment>;
  constructor(items: Array<Value | Comment> = []) {
    this.items = items;
  }
}

/** A file is one or more documents (YAML); every other format has exactly one. */
export type Branches = Mapping[];

export function isLeaf(value: unknown): value is Leaf {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    value instanceof GoInt ||
    value instanceof GoFloat ||
    value instanceof GoTime ||
    value instanceof Uint8Array
  );
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/**
 * strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip, never an exponent.
 * JavaScript's shortest round-trip digits are the same as Go's; only the layout differs.
 */
export function formatFloatF(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  let out: string;
  if (exponent >= digits.length - 1) out = digits + '0'.repeat(exponent - digits.length + 1);
  else if (exponent >= 0) out = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  else out = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  return sign + out;
}

/**
 * strconv.FormatFloat(v, 'g', -1, 64), which yaml.v3 uses for floats: with shortest precision Go switches to
 * exponent form when the decimal exponent is below -4 or at least 6 (1e+06, 1.234568e+09).
 */
export function formatFloatG(value: number): string {
  if (!Number.isFinite(value) || value === 0) return formatFloatF(value);
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent).toString().padStart(2, '0')}`;
  }
  return formatFloatF(value);
}

/** The plaintext bytes sops encrypts and hashes for a value (sops.ToBytes). */
export function leafBytes(value: Leaf | Comment): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'boolean') return Buffer.from(value ? 'True' : 'False');
  if (value instanceof GoInt) return Buffer.from(value.value.toString());
  if (value instanceof GoFloat) return Buffer.from(formatFloatF(value.value));
  if (value instanceof GoTime) return Buffer.from(value.text);
  if (value instanceof Comment) return Buffer.from(value.value, 'utf8');
  return value;
}

/** The sops `type:` name of a value. */
export function leafType(value: Leaf | Comment): string {
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof GoInt) return 'int';
  if (value instanceof GoFloat) return 'float';
  if (value instanceof GoTime) return 'time';
  if (value instanceof Comment) return 'comment';
  // Raw bytes (binary files, type:bytes values) are encrypted as strings, as sops's walkValue does.
  return 'str';
}

/** strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** strconv.ParseFloat for the forms sops writes and Go accepts (including Inf and NaN spellings). */
export function parseGoFloat(text: string): number | undefined {
  const t = text.replace(/_/g, '');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP][+-]?\d+$/.test(t)) return undefined;
  return undefined;
}

/** Deep copy of a tree value, so an operation never mutates what its caller holds. */
export function cloneValue<T extends Value | Comment>(value: T): T {
  if (value instanceof Mapping) {
    return new Mapping(value.items.map((item) => (item instanceof Comment ? item : { key: item.key, value: cloneValue(item.value) }))) as T;
  }
  if (value instanceof Sequence) return new Sequence(value.items.map((item) => cloneValue(item))) as T;
  return value;
}

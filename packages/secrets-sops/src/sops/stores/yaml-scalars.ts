import { GoFloat, GoInt, type Leaf, fitsInt64 } from '../values.ts';
import { SopsError } from '../errors.ts';

/**
 * Scalar resolution as go.yaml.in/yaml/v3 does it when sops decodes into interface{} (resolve.go): this
 * decides whether `0x1F` is an int, `1e3` a float and `yes` a string, which in turn decides the plaintext
 * bytes and the MAC. YAML 1.1 octals (0777) and underscores (1_000) are numbers; timestamps stay strings.
 */

const FLOAT_STYLE = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const OLD_BOOLS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF']);
const FIXED: Record<string, Leaf | null> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
  '': null,
  '~': null,
  null: null,
  Null: null,
  NULL: null,
  '.nan': new GoFloat(NaN),
  '.NaN': new GoFloat(NaN),
  '.NAN': new GoFloat(NaN),
  '.inf': new GoFloat(Infinity),
  '.Inf': new GoFloat(Infinity),
  '.INF': new GoFloat(Infinity),
  '+.inf': new GoFloat(Infinity),
  '+.Inf': new GoFloat(Infinity),
  '+.INF': new GoFloat(Infinity),
  '-.inf': new GoFloat(-Infinity),
  '-.Inf': new GoFloat(-Infinity),
  '-.INF': new GoFloat(-Infinity),
};

/** strconv.ParseInt(s, 0, 64) without its underscore rules (yaml.v3 strips underscores first). */
function parseGoIntBase0(text: string): bigint | undefined {
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!match) return undefined;
  const [, sign, body] = match as unknown as [string, string, string];
  let magnitude: bigint;
  if (/^0[xXbBoO]/.test(body)) magnitude = BigInt(`0${body[1]!.toLowerCase()}${body.slice(2)}`);
  else if (body.length > 1 && body.startsWith('0')) magnitude = BigInt(`0o${body.slice(1)}`);
  else magnitude = BigInt(body);
  return sign === '-' ? -magnitude : magnitude;
}

/** yaml.v3's timestamp check: four digits, a dash, then one of the layouts it accepts. */
export function looksLikeTimestamp(text: string): boolean {
  if (!/^\d{4}-/.test(text)) return false;
  return (
    /^\d{4}-\d{1,2}-\d{1,2}$/.test(text) ||
    /^\d{4}-\d{1,2}-\d{1,2}([Tt]|\s+)\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(\s*(Z|[+-]\d{1,2}(:?\d{2})?))?$/.test(text)
  );
}

/** What a plain (unquoted, untagged) scalar means to yaml.v3. */
export function resolvePlainScalar(text: string): Leaf | null {
  if (Object.hasOwn(FIXED, text)) return FIXED[text]!;
  const first = text[0] ?? '';
  if (first === '.') {
    return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? new GoFloat(Number(text)) : text;
  }
  if (!/[0-9+-]/.test(first)) return text;
  if (looksLikeTimestamp(text)) return text;
  const plain = text.replace(/_/g, '');
  const int = parseGoIntBase0(plain);
  if (int !== undefined) {
    if (fitsInt64(int)) return new GoInt(int);
    if (int > 0n && int < 2n ** 64n) throw new SopsError(`Cannot walk value, unknown type: uint64 (${text})`);
  }
  if (FLOAT_STYLE.test(plain)) return new GoFloat(Number(plain));
  return text;
}

/** Scalars with an explicit core tag (`!!str 5`, `!!int "7"`); unknown tags leave the text a string. */
export function resolveTaggedScalar(tag: string, text: string): Leaf | null {
  switch (tag) {
    case 'tag:yaml.org,2002:str':
      return text;
    case 'tag:yaml.org,2002:binary':
      return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1');
    case 'tag:yaml.org,2002:int':
    case 'tag:yaml.org,2002:float':
    case 'tag:yaml.org,2002:bool':
    case 'tag:yaml.org,2002:null': {
      const resolved = resolvePlainScalar(text);
      if (tag.endsWith(':float') && resolved instanceof GoInt) return new GoFloat(Number(resolved.value));
      return resolved;
    }
    default:
      return text;
  }
}

/**
 * Whether a string must be quoted so that it reads back as a string: yaml.v3 quotes anything that would
 * resolve to another type, YAML 1.1 booleans and timestamps.
 */
export function stringNeedsQuotes(text: string): boolean {
  if (OLD_BOOLS.has(text) || looksLikeTimestamp(text) || /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/.test(text)) return true;
  let resolved: Leaf | null;
  try {
    resolved = resolvePlainScalar(text);
  } catch {
    return true;
  }
  return typeof resolved !== 'string';
}

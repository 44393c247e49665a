import { describe, expect, it } from 'vitest';
import { GoFloat, GoInt, formatFloatF, formatFloatG } from './values.ts';
import { resolvePlainScalar, stringNeedsQuotes } from './stores/yaml-scalars.ts';
import { goRegExp, normalizeRules, shouldBeEncrypted } from './rules.ts';
import { rfc3339ToAad } from './metadata.ts';
import { combine, split } from './keys/shamir.ts';

describe('Go number formatting', () => {
  it("formats floats like strconv.FormatFloat(v, 'f', -1, 64), never with an exponent", () => {
    const cases: Array<[number, string]> = [
      [1234568000, '1234568000'],
      [0.25, '0.25'],
      [1e21, '1000000000000000000000'],
      [1e-7, '0.0000001'],
      [-0, '-0'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
      [123.456, '123.456'],
      [0.1 + 0.2, '0.30000000000000004'],
    ];
    for (const [value, text] of cases) expect(formatFloatF(value), String(value)).toBe(text);
  });

  it("formats floats like strconv.FormatFloat(v, 'g', -1, 64), as yaml.v3 writes them", () => {
    const cases: Array<[number, string]> = [
      [1234568000, '1.234568e+09'],
      [1e6, '1e+06'],
      [123456, '123456'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5, '1.5'],
    ];
    for (const [value, text] of cases) expect(formatFloatG(value), String(value)).toBe(text);
  });
});

describe('YAML scalars resolve as yaml.v3 resolves them', () => {
  const kind = (text: string) => {
    const value = resolvePlainScalar(text);
    if (value instanceof GoInt) return `int ${value.value}`;
    if (value instanceof GoFloat) return `float ${value.value}`;
    return value === null ? 'null' : `${typeof value} ${String(value)}`;
  };

  it('types numbers, booleans and nulls from their text', () => {
    expect(
      ['42', '-7', '+3', '0x1F', '0o17', '0b101', '017', '08', '1_000', '1.5', '.5', '1e3', '.inf', '-.Inf', '.nan', 'true', 'False', 'TRUE', '~', 'null', ''].map(kind),
    ).toEqual([
      'int 42', 'int -7', 'int 3', 'int 31', 'int 15', 'int 5', 'int 15', 'float 8', 'int 1000', 'float 1.5', 'float 0.5', 'float 1000',
      'float Infinity', 'float -Infinity', 'float NaN', 'boolean true', 'boolean false', 'boolean true', 'null', 'null', 'null',
    ]);
  });

  it('keeps YAML 1.1 booleans, timestamps and other text as strings', () => {
    expect(['yes', 'on', 'n', '2024-01-02', '2024-01-02T03:04:05Z', '1.2.3', 'hello', '0x'].map(kind)).toEqual([
      'string yes', 'string on', 'string n', 'string 2024-01-02', 'string 2024-01-02T03:04:05Z', 'string 1.2.3', 'string hello', 'string 0x',
    ]);
  });

  it('quotes strings that would read back as something else', () => {
    expect(['123', 'true', 'yes', 'n', '2024-01-02T03:04:05Z', '', '1:20', '1_0'].map(stringNeedsQuotes)).toEqual([true, true, true, true, true, true, true, true]);
    expect(['hello', 'v1.2.3', 'age1abc', 'ENC[AES256_GCM,data:x]'].map(stringNeedsQuotes)).toEqual([false, false, false, false]);
  });
});

describe('which values are encrypted', () => {
  const enc = (rules: Parameters<typeof normalizeRules>[0], path: string[], comments: string[][] = [[]], isComment = false) =>
    shouldBeEncrypted(normalizeRules(rules), path, comments, isComment);

  it('defaults to leaving *_unencrypted subtrees in clear', () => {
    expect(normalizeRules({})).toEqual({ unencryptedSuffix: '_unencrypted' });
    expect(enc({}, ['a', 'b'])).toBe(true);
    expect(enc({}, ['public_unencrypted', 'b'])).toBe(false);
  });

  it('applies the suffix and regex rules to every path component', () => {
    expect(enc({ encryptedSuffix: '_secret' }, ['db_secret', 'user'])).toBe(true);
    expect(enc({ encryptedSuffix: '_secret' }, ['db', 'user'])).toBe(false);
    expect(enc({ unencryptedRegex: '^meta' }, ['metadata', 'name'])).toBe(false);
    expect(enc({ unencryptedRegex: '^meta' }, ['stringData', 'name'])).toBe(true);
    expect(enc({ encryptedRegex: '^(data|stringData)$' }, ['stringData', 'password'])).toBe(true);
    expect(enc({ encryptedRegex: '^(data|stringData)$' }, ['metadata', 'name'])).toBe(false);
  });

  it('follows the comments before a value for the comment rules, leaving the marker comment itself readable', () => {
    expect(enc({ encryptedCommentRegex: 'sops:enc' }, ['password'], [[' sops:enc']])).toBe(true);
    expect(enc({ encryptedCommentRegex: 'sops:enc' }, ['user'], [[]])).toBe(false);
    expect(enc({ encryptedCommentRegex: 'sops:enc' }, [], [[' sops:enc']], true)).toBe(false);
    expect(enc({ unencryptedCommentRegex: 'public' }, ['host'], [[' public']])).toBe(false);
    expect(enc({ unencryptedCommentRegex: 'public' }, ['host'], [[' other']])).toBe(true);
  });

  it('refuses two rules at once, as sops does', () => {
    expect(() => normalizeRules({ encryptedRegex: 'a', unencryptedSuffix: 'b' })).toThrowError(/Cannot use more than one of encrypted_suffix/);
  });

  it("reads RE2's leading flag group", () => {
    expect(goRegExp('(?i)^DATA$').test('data')).toBe(true);
    expect(goRegExp('^data\\z').test('data')).toBe(true);
  });
});

describe('metadata details', () => {
  it('uses lastmodified as Go re-formats it for the MAC additional data', () => {
    expect(rfc3339ToAad('2024-11-12T13:33:42Z')).toBe('2024-11-12T13:33:42Z');
    expect(rfc3339ToAad('2024-11-12T13:33:42.123456Z')).toBe('2024-11-12T13:33:42Z');
    expect(rfc3339ToAad('2024-11-12T13:33:42+00:00')).toBe('2024-11-12T13:33:42Z');
    expect(rfc3339ToAad('2024-11-12T14:33:42+01:00')).toBe('2024-11-12T14:33:42+01:00');
    expect(() => rfc3339ToAad('yesterday')).toThrowError(/is not an RFC 3339 time/);
  });

  it('splits and combines a data key with Shamir like sops (x = i + 1)', () => {
    const secret = new Uint8Array(32).map((_, i) => i * 7);
    const parts = split(secret, 5, 3);
    expect(parts.map((p) => p[32])).toEqual([1, 2, 3, 4, 5]);
    expect(combine([parts[4]!, parts[0]!, parts[2]!])).toEqual(secret);
    expect(combine([parts[0]!, parts[1]!])).not.toEqual(secret);
    expect(() => combine([parts[0]!, parts[0]!])).toThrowError('duplicate part detected');
  });
});

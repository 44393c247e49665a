import { SopsError, codes } from './errors.ts';

/**
 * Which values get encrypted. sops allows exactly one of these per file; with none, unencrypted_suffix
 * `_unencrypted` applies. mac_only_encrypted changes only what the MAC covers.
 */
export interface EncryptionRules {
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: string;
  encryptedRegex?: string;
  unencryptedCommentRegex?: string;
  encryptedCommentRegex?: string;
  macOnlyEncrypted?: boolean;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

export const RULE_FIELDS = [
  ['unencryptedSuffix', 'unencrypted_suffix'],
  ['encryptedSuffix', 'encrypted_suffix'],
  ['unencryptedRegex', 'unencrypted_regex'],
  ['encryptedRegex', 'encrypted_regex'],
  ['unencryptedCommentRegex', 'unencrypted_comment_regex'],
  ['encryptedCommentRegex', 'encrypted_comment_regex'],
] as const;

/** Applies sops's "at most one rule, default _unencrypted" policy. */
export function normalizeRules(rules: EncryptionRules, where: 'file' | 'rule' = 'file'): EncryptionRules {
  const set = RULE_FIELDS.filter(([field]) => (rules[field] ?? '') !== '');
  if (set.length > 1) {
    throw new SopsError(
      `Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same ${where}`,
      codes.ErrorGeneric,
    );
  }
  const out: EncryptionRules = {};
  for (const [field] of set) out[field] = rules[field]!;
  if (set.length === 0) out.unencryptedSuffix = DEFAULT_UNENCRYPTED_SUFFIX;
  if (rules.macOnlyEncrypted) out.macOnlyEncrypted = true;
  return out;
}

const compiled = new Map<string, RegExp>();

/**
 * Compiles a Go RE2 pattern as a JavaScript RegExp. RE2's leading flag group `(?i)`/`(?s)`/`(?m)` becomes
 * JavaScript flags, and `\A`/`\z` become anchors; everything else in the RE2 syntax users write for sops
 * (classes, alternation, anchors, repetition) means the same in both.
 */
export function goRegExp(pattern: string): RegExp {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  let source = pattern;
  let flags = '';
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    if (leading[1]!.includes('U')) throw new SopsError(`unsupported regular expression flag U in ${pattern}`, codes.ErrorReadingConfig);
    flags = leading[1]!;
    source = source.slice(leading[0].length);
  }
  source = source.replace(/\\A/g, '^').replace(/\\z/g, '$(?![\\s\\S])');
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags + 'u');
  } catch {
    regex = new RegExp(source, flags);
  }
  compiled.set(pattern, regex);
  return regex;
}

/** Tree.shouldBeEncrypted from sops.go: path holds the mapping keys down to the value. */
export function shouldBeEncrypted(rules: EncryptionRules, path: readonly string[], commentStack: readonly (readonly string[])[], isComment: boolean): boolean {
  let encrypted = true;
  if (rules.unencryptedSuffix) {
    if (path.some((p) => p.endsWith(rules.unencryptedSuffix!))) encrypted = false;
  }
  if (rules.encryptedSuffix) {
    encrypted = path.some((p) => p.endsWith(rules.encryptedSuffix!));
  }
  if (rules.unencryptedRegex) {
    const re = goRegExp(rules.unencryptedRegex);
    if (path.some((p) => re.test(p))) encrypted = false;
  }
  if (rules.encryptedRegex) {
    const re = goRegExp(rules.encryptedRegex);
    encrypted = path.some((p) => re.test(p));
  }
  if (rules.unencryptedCommentRegex) {
    const re = goRegExp(rules.unencryptedCommentRegex);
    if (commentStack.some((level) => level.some((c) => re.test(c)))) encrypted = false;
  }
  if (rules.encryptedCommentRegex) {
    const re = goRegExp(rules.encryptedCommentRegex);
    const lastLevel = commentStack.length - 1;
    const lastIndex = (commentStack[lastLevel]?.length ?? 0) - 1;
    encrypted = false;
    outer: for (let i = 0; i < commentStack.length; i++) {
      const level = commentStack[i]!;
      for (let j = 0; j < level.length; j++) {
        // The comment that matches the regex stays readable itself; only what follows it is encrypted.
        if (isComment && i === lastLevel && j === lastIndex) continue;
        if (re.test(level[j]!)) {
          encrypted = true;
          break outer;
        }
      }
    }
  }
  return encrypted;
}

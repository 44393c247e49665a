import { createHash, type Hash } from 'node:crypto';
import { Comment, Mapping, Sequence, type Branches, type Leaf, type Value, isLeaf, leafBytes } from './values.ts';
import { goRegExp, shouldBeEncrypted, type EncryptionRules } from './rules.ts';
import { NonceStash, decryptLeaf, encryptLeaf } from './cipher.ts';
import { SopsError, codes } from './errors.ts';

/** sha256("sops"): prepended to the MAC when it covers only encrypted values (mac_only_encrypted). */
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from('8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69', 'hex');

type Visitor = (value: Leaf | Comment, path: readonly string[], comments: readonly (readonly string[])[], isComment: boolean) => Leaf | Comment;

/** Depth-first walk in document order, tracking the comments that precede each value at every level. */
function walkValue(value: Value | Comment, path: string[], comments: string[][], visit: Visitor): Value | Comment {
  if (value instanceof Mapping) return walkMapping(value, path, comments, visit);
  if (value instanceof Sequence) return walkSequence(value, path, comments, visit);
  if (value === null) return null;
  if (value instanceof Comment || isLeaf(value)) return visit(value, path, comments, value instanceof Comment);
  throw new SopsError(`Cannot walk value, unknown type: ${typeof value}`, codes.ErrorGeneric);
}

function walkSequence(sequence: Sequence, path: string[], comments: string[][], visit: Visitor): Sequence {
  const stack = [...comments, []];
  const level = stack[stack.length - 1]!;
  sequence.items.forEach((item, i) => {
    const isComment = item instanceof Comment;
    if (isComment) level.push(item.value);
    sequence.items[i] = walkValue(item, path, stack, visit);
    if (!isComment) level.length = 0;
  });
  return sequence;
}

function walkMapping(mapping: Mapping, path: string[], comments: string[][], visit: Visitor): Mapping {
  const stack = [...comments, []];
  const level = stack[stack.length - 1]!;
  mapping.items.forEach((item, i) => {
    if (item instanceof Comment) {
      level.push(item.value);
      const result = visit(item, path, stack, true);
      mapping.items[i] = result instanceof Comment ? result : new Comment(String(result), item.inline);
      return;
    }
    if (typeof item.key !== 'string') {
      throw new SopsError(`Tree contains a non-string key (${describeKey(item.key)}). Only string keys are supported`, codes.ErrorGeneric);
    }
    item.value = walkValue(item.value, [...path, item.key], stack, visit) as Value;
    level.length = 0;
  });
  return mapping;
}

function describeKey(key: unknown): string {
  if (key === null) return 'null';
  if (typeof key === 'boolean') return `bool ${key}`;
  return `${(key as object).constructor?.name ?? typeof key}`;
}

function newMac(rules: EncryptionRules): Hash {
  const hash = createHash('sha512');
  if (rules.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  return hash;
}

function aadFor(path: readonly string[]): string {
  return `${path.join(':')}:`;
}

/**
 * Encrypts every value the rules select, in place, and returns the MAC over the plaintext (uppercase hex), as
 * Tree.Encrypt does. Values that stay plaintext are hashed too unless mac_only_encrypted is set.
 */
export function encryptBranches(branches: Branches, dataKey: Uint8Array, rules: EncryptionRules, stash?: NonceStash): string {
  const mac = newMac(rules);
  for (const branch of branches) {
    walkMapping(branch, [], [], (value, path, comments, isComment) => {
      const encrypted = shouldBeEncrypted(rules, path, comments, isComment);
      if ((!rules.macOnlyEncrypted || encrypted) && !isComment) mac.update(leafBytes(value));
      if (!encrypted) return value;
      const text = encryptLeaf(value, dataKey, aadFor(path), stash);
      if (isComment && rules.unencryptedCommentRegex) {
        // A ciphertext that matched the regex would be left undecrypted later and break the MAC.
        if (goRegExp(rules.unencryptedCommentRegex).test(text)) {
          throw new SopsError('Encrypted comment matches UnencryptedCommentRegex! Make sure that UnencryptedCommentRegex cannot match an encrypted comment.');
        }
      }
      return isComment ? new Comment(text, (value as Comment).inline) : text;
    });
  }
  return mac.digest('hex').toUpperCase();
}

export interface DecryptOutcome {
  /** MAC computed over the decrypted values. */
  mac: string;
  /** Comments that did not decrypt and were kept as written (older sops left comments in clear). */
  plaintextComments: number;
}

/** Decrypts in place and computes the MAC the file should carry (Tree.Decrypt). */
export function decryptBranches(branches: Branches, dataKey: Uint8Array, rules: EncryptionRules, stash?: NonceStash): DecryptOutcome {
  const mac = newMac(rules);
  let plaintextComments = 0;
  for (const branch of branches) {
    walkMapping(branch, [], [], (value, path, comments, isComment) => {
      const encrypted = shouldBeEncrypted(rules, path, comments, isComment);
      let result: Leaf | Comment = value;
      if (encrypted) {
        if (value instanceof Comment) {
          try {
            const decrypted = decryptLeaf(value.value, dataKey, aadFor(path), stash);
            result = decrypted instanceof Comment ? new Comment(decrypted.value, value.inline) : decrypted;
          } catch {
            plaintextComments++;
            result = value;
          }
        } else if (typeof value === 'string') {
          try {
            result = decryptLeaf(value, dataKey, aadFor(path), stash);
          } catch (error) {
            throw new SopsError(`Error decrypting tree: Error walking tree: Could not decrypt value: ${(error as Error).message}`, codes.ErrorDecryptingTree);
          }
        } else {
          throw new SopsError(`Error decrypting tree: Expected encrypted value as string at ${path.join('.') || '(top level)'}`, codes.ErrorDecryptingTree);
        }
      }
      if ((!rules.macOnlyEncrypted || encrypted) && !isComment) mac.update(leafBytes(result));
      return result;
    });
  }
  return { mac: mac.digest('hex').toUpperCase(), plaintextComments };
}

/** The MAC of a plaintext tree without encrypting it (used to tell whether an edit changed anything). */
export function plaintextMac(branches: Branches, rules: EncryptionRules): string {
  const mac = newMac(rules);
  for (const branch of branches) {
    walkMapping(branch, [], [], (value, path, comments, isComment) => {
      const encrypted = shouldBeEncrypted(rules, path, comments, isComment);
      if ((!rules.macOnlyEncrypted || encrypted) && !isComment) mac.update(leafBytes(value));
      return value;
    });
  }
  return mac.digest('hex').toUpperCase();
}

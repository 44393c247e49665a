import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Comment, GoFloat, GoInt, GoTime, type Leaf, fitsInt64, leafBytes, leafType, parseGoBool, parseGoFloat } from './values.ts';
import { SopsError, codes } from './errors.ts';

/** sops encrypts with a 32-byte GCM nonce (aes/cipher.go nonceSize); decryption accepts any length. */
const NONCE_SIZE = 32;
const TAG_SIZE = 16;
const ENCRYPTED_VALUE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface EncryptedValue {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: string;
}

function decodeBase64(text: string, field: string): Buffer {
  if (!BASE64.test(text) || text.length % 4 !== 0) throw new SopsError(`Error base64-decoding ${field}`, codes.ErrorDecryptingTree);
  return Buffer.from(text, 'base64');
}

export function isEncryptedValue(text: string): boolean {
  return ENCRYPTED_VALUE.test(text);
}

export function parseEncryptedValue(text: string): EncryptedValue {
  const match = ENCRYPTED_VALUE.exec(text);
  if (!match) throw new SopsError("Input string does not match sops' data format", codes.ErrorDecryptingTree);
  return { data: decodeBase64(match[1]!, 'data'), iv: decodeBase64(match[2]!, 'iv'), tag: decodeBase64(match[3]!, 'tag'), type: match[4]! };
}

function isEmpty(value: Leaf | Comment): boolean {
  if (typeof value === 'string') return value === '';
  if (value instanceof Uint8Array) return value.length === 0;
  if (value instanceof Comment) return value.value === '';
  return false;
}

/**
 * Remembers the nonce of every value decrypted, so that re-encrypting an unchanged value (set, edit)
 * reproduces its ciphertext and the diff shows only what really changed, as sops's stash does.
 */
export class NonceStash {
  private readonly nonces = new Map<string, Buffer>();

  private static keyOf(plaintext: Uint8Array, type: string, aad: string): string {
    return `${type}\u0000${aad}\u0000${Buffer.from(plaintext).toString('base64')}`;
  }

  remember(plaintext: Uint8Array, type: string, aad: string, iv: Buffer): void {
    this.nonces.set(NonceStash.keyOf(plaintext, type, aad), iv);
  }

  recall(plaintext: Uint8Array, type: string, aad: string): Buffer | undefined {
    return this.nonces.get(NonceStash.keyOf(plaintext, type, aad));
  }
}

/** Encrypts one value as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`; empty strings stay empty, as in sops. */
export function encryptLeaf(value: Leaf | Comment, dataKey: Uint8Array, aad: string, stash?: NonceStash): string {
  if (isEmpty(value)) return '';
  const plaintext = leafBytes(value);
  const type = leafType(value);
  const iv = stash?.recall(plaintext, type, aad) ?? randomBytes(NONCE_SIZE);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_SIZE });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${tag.toString('base64')},type:${type}]`;
}

/** Decrypts one `ENC[…]` value back to its typed plaintext. Errors never include plaintext. */
export function decryptLeaf(text: string, dataKey: Uint8Array, aad: string, stash?: NonceStash): Leaf | Comment {
  if (text === '') return '';
  const encrypted = parseEncryptedValue(text);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, encrypted.iv, { authTagLength: TAG_SIZE });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(encrypted.tag);
    plaintext = Buffer.concat([decipher.update(encrypted.data), decipher.final()]);
  } catch {
    throw new SopsError('Could not decrypt with AES_GCM: cipher: message authentication failed', codes.ErrorDecryptingTree);
  }
  stash?.remember(plaintext, encrypted.type, aad, encrypted.iv);
  const textValue = plaintext.toString('utf8');
  switch (encrypted.type) {
    case 'str':
      // Bytes that are not UTF-8 (binary files) stay bytes so that nothing is lost.
      return Buffer.from(textValue, 'utf8').equals(plaintext) ? textValue : new Uint8Array(plaintext);
    case 'int': {
      if (!/^[+-]?\d+$/.test(textValue) || !fitsInt64(BigInt(textValue))) throw new SopsError('invalid int value', codes.ErrorDecryptingTree);
      return new GoInt(BigInt(textValue));
    }
    case 'float': {
      const parsed = parseGoFloat(textValue);
      if (parsed === undefined) throw new SopsError('invalid float value', codes.ErrorDecryptingTree);
      return new GoFloat(parsed);
    }
    case 'bool': {
      const parsed = parseGoBool(textValue);
      if (parsed === undefined) throw new SopsError('invalid bool value', codes.ErrorDecryptingTree);
      return parsed;
    }
    case 'bytes':
      return new Uint8Array(plaintext);
    case 'time':
      return new GoTime(textValue);
    case 'comment':
      return new Comment(textValue);
    default:
      throw new SopsError(`Unknown datatype: ${encrypted.type}`, codes.ErrorDecryptingTree);
  }
}

/**
 * Just enough ASN.1 DER to build and read X.509 certificates: definite lengths, the universal types
 * certificates use, and explicit context tags. Keys and signatures come from node:crypto.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export const sequence = (...items: Uint8Array[]) => tlv(TAG.SEQUENCE, Buffer.concat(items));
export const set = (...items: Uint8Array[]) => tlv(TAG.SET, Buffer.concat(items));
export const octetString = (content: Uint8Array) => tlv(TAG.OCTET_STRING, content);
export const nullValue = () => tlv(TAG.NULL, Buffer.alloc(0));
export const boolean = (value: boolean) => tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
/** [n] EXPLICIT: a constructed context-specific tag around the encoded value. */
export const explicit = (n: number, content: Uint8Array) => tlv(0xa0 | n, content);
/** [n] IMPLICIT on a primitive (GeneralName's dNSName, iPAddress). */
export const implicitPrimitive = (n: number, content: Uint8Array) => tlv(0x80 | n, content);

/** A non-negative INTEGER from big-endian magnitude bytes (a leading zero keeps it positive). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = Buffer.from(magnitude.subarray(start));
  return tlv(TAG.INTEGER, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(value: number): Buffer {
  const hex = value.toString(16);
  return unsignedInteger(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

export function objectIdentifier(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const bytes: number[] = [40 * parts[0]! + parts[1]!];
  for (const part of parts.slice(2)) {
    const group: number[] = [];
    let n = part;
    do {
      group.unshift(n & 0x7f);
      n = Math.floor(n / 128);
    } while (n > 0);
    for (let i = 0; i < group.length - 1; i++) group[i]! |= 0x80;
    bytes.push(...group);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), content]));
}

/**
 * A named-bit BIT STRING (KeyUsage): bit 0 is the most significant bit of the first byte, and DER drops
 * trailing zero bits.
 */
export function namedBits(bits: number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  return bitString(bytes, 7 - (highest % 8));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A directory string as Go writes it: PrintableString when the text allows, UTF8String otherwise. */
export function directoryString(text: string): Buffer {
  return PRINTABLE.test(text) ? tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'ascii')) : tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** UTCTime for 1950–2049, GeneralizedTime after (RFC 5280 4.1.2.5). Whole seconds, UTC. */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return date.getUTCFullYear() < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(compact.slice(2), 'ascii')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(compact, 'ascii'));
}

export interface Node {
  tag: number;
  /** The whole encoding (header and content). */
  raw: Buffer;
  content: Buffer;
  children: Node[];
}

/** Reads one element; constructed elements (and BIT/OCTET strings holding DER) are read recursively on demand. */
export function decode(buffer: Buffer, offset = 0): Node & { end: number } {
  const tag = buffer[offset]!;
  let length = buffer[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset + 2 + i]!;
    header += count;
  }
  const start = offset + header;
  const end = start + length;
  if (end > buffer.length) throw new Error('DER: element runs past the end of the input');
  const content = buffer.subarray(start, end);
  const children: Node[] = [];
  if (tag & 0x20) {
    for (let at = 0; at < content.length; ) {
      const child = decode(content, at);
      children.push(child);
      at = child.end;
    }
  }
  return { tag, raw: buffer.subarray(offset, end), content, children, end };
}

export function decodeOid(content: Buffer): string {
  const parts = [Math.floor(content[0]! / 40), content[0]! % 40];
  let value = 0;
  for (const byte of content.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import {
  bitString,
  boolean,
  decode,
  directoryString,
  explicit,
  implicitPrimitive,
  namedBits,
  nullValue,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
} from './der.ts';

/** X.509 certificates as Go's crypto/x509 (and so Talos) lays them out, signed with node:crypto. */

export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256' | 'rsa-4096';

export const OID = {
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  ed25519: '1.3.101.112',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  crlSign: 6,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

export function generateKeyPair(algorithm: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (algorithm === 'ed25519') return generateKeyPairSync('ed25519');
  if (algorithm === 'ecdsa-p256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('rsa', { modulusLength: 4096, publicExponent: 0x10001 });
}

export interface DistinguishedName {
  organization?: string[];
  commonName?: string;
}

/** pkix.Name in Go's order (O before CN); one RDN per attribute type. */
export function encodeName(name: DistinguishedName): Buffer {
  const rdns: Buffer[] = [];
  if (name.organization?.length) rdns.push(set(...name.organization.map((o) => sequence(objectIdentifier(OID.organization), directoryString(o)))));
  if (name.commonName) rdns.push(set(sequence(objectIdentifier(OID.commonName), directoryString(name.commonName))));
  return sequence(...rdns);
}

function signatureAlgorithm(signingKey: KeyObject): { identifier: Buffer; digest: string | null } {
  switch (signingKey.asymmetricKeyType) {
    case 'ed25519':
      return { identifier: sequence(objectIdentifier(OID.ed25519)), digest: null };
    case 'ec':
      return { identifier: sequence(objectIdentifier(OID.ecdsaWithSha256)), digest: 'sha256' };
    case 'rsa':
      return { identifier: sequence(objectIdentifier(OID.sha256WithRsa), nullValue()), digest: 'sha256' };
    default:
      throw new Error(`unsupported signing key type ${signingKey.asymmetricKeyType}`);
  }
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits, as Go computes a missing SubjectKeyId. */
export function subjectKeyId(publicKey: KeyObject): Buffer {
  const spki = decode(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = spki.children[1]!.content.subarray(1);
  return createHash('sha1').update(bits).digest();
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(objectIdentifier(oid), boolean(true), octetString(value)) : sequence(objectIdentifier(oid), octetString(value));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const fill = 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...Array(ip.includes('::') ? fill : 0).fill('0'), ...groups(tail)];
  return Buffer.concat(all.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

export interface CertificateRequest {
  subject: DistinguishedName;
  publicKey: KeyObject;
  /** Absent for a self-signed certificate (then the subject key signs). */
  issuer?: { name: DistinguishedName; privateKey: KeyObject; keyId: Buffer };
  signingKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  keyUsage: KeyUsage[];
  extKeyUsage: ExtKeyUsage[];
  dnsNames?: string[];
  ipAddresses?: string[];
  serial?: Buffer;
}

export function createCertificate(request: CertificateRequest): { der: Buffer; pem: string } {
  const signingKey = request.issuer?.privateKey ?? request.signingKey;
  if (!signingKey) throw new Error('a self-signed certificate needs signingKey');
  const algorithm = signatureAlgorithm(signingKey);
  const ownKeyId = subjectKeyId(request.publicKey);
  const extensions: Buffer[] = [];
  if (request.keyUsage.length) extensions.push(extension(OID.keyUsage, true, namedBits(request.keyUsage.map((u) => KEY_USAGE_BITS[u]))));
  if (request.extKeyUsage.length) extensions.push(extension(OID.extKeyUsage, false, sequence(...request.extKeyUsage.map((u) => objectIdentifier(OID[u])))));
  if (request.isCA) extensions.push(extension(OID.basicConstraints, true, sequence(boolean(true))));
  if (request.isCA) extensions.push(extension(OID.subjectKeyId, false, octetString(ownKeyId)));
  if (request.issuer) extensions.push(extension(OID.authorityKeyId, false, sequence(implicitPrimitive(0, request.issuer.keyId))));
  const names = [...(request.dnsNames ?? []).map((d) => implicitPrimitive(2, Buffer.from(d, 'ascii'))), ...(request.ipAddresses ?? []).map((ip) => implicitPrimitive(7, ipBytes(ip)))];
  if (names.length) extensions.push(extension(OID.subjectAltName, false, sequence(...names)));
  const serial = request.serial ?? randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm.identifier,
    encodeName(request.issuer?.name ?? request.subject),
    sequence(time(request.notBefore), time(request.notAfter)),
    encodeName(request.subject),
    request.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(algorithm.digest, tbs, signingKey);
  const der = sequence(tbs, algorithm.identifier, bitString(signature));
  return { der, pem: toPem('CERTIFICATE', der) };
}

export function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Whole seconds: certificates carry second precision, and equal inputs must give equal bytes. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export const HOUR_MS = 3_600_000;

import { randomBytes } from 'node:crypto';
import { Document, parse } from 'yaml';
import { HOUR_MS, createCertificate, generateKeyPair, subjectKeyId, wholeSeconds, type DistinguishedName, type KeyAlgorithm } from '../pki/x509.ts';
import { subjectKeyIdOf } from '../pki/inspect.ts';
import { loadPrivateKey, privateKeyPem, publicKeyOf } from '../pki/keys.ts';

/**
 * The Talos secrets bundle, in the shape `talosctl gen secrets` writes (secrets.yaml): lower-case keys,
 * certificates and keys as standard base64 of their PEM text. Profiles follow Talos v1.13
 * (pkg/machinery/config/generate/secrets): OS CA Ed25519, etcd/Kubernetes/aggregator CAs ECDSA P-256,
 * service-account key RSA-4096, CAs valid 10 years.
 */

export interface PemPair {
  crt: string;
  key: string;
}

export interface SecretsBundle {
  cluster: { id: string; secret: string };
  secrets: { bootstraptoken: string; secretboxencryptionsecret: string };
  trustdinfo: { token: string };
  certs: {
    etcd: PemPair;
    k8s: PemPair;
    k8saggregator: PemPair;
    k8sserviceaccount: { key: string };
    os: PemPair;
  };
}

export const CA_VALIDITY_HOURS = 87_600;
export const CLIENT_VALIDITY_HOURS = 8_760;
const TOKEN_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Talos's genToken: lower-case alphanumerics from bytes below 252, so `% 36` has no bias. */
export function generateToken(first = 6, second = 16): string {
  const draw = (n: number) => {
    let out = '';
    while (out.length < n) {
      for (const byte of randomBytes(n * 2)) {
        if (byte < 252 && out.length < n) out += TOKEN_ALPHABET[byte % 36];
      }
    }
    return out;
  };
  return `${draw(first)}.${draw(second)}`;
}

export function createCertificateAuthority(algorithm: KeyAlgorithm, name: DistinguishedName, now: Date): PemPair {
  const keys = generateKeyPair(algorithm);
  const notBefore = wholeSeconds(now);
  const { pem } = createCertificate({
    subject: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_HOURS * HOUR_MS),
    isCA: true,
    keyUsage: ['digitalSignature', 'keyCertSign'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  return { crt: pem, key: privateKeyPem(keys.privateKey) };
}

export function generateBundle(now: Date = new Date()): SecretsBundle {
  return {
    cluster: { id: randomBytes(32).toString('base64url').padEnd(44, '='), secret: randomBytes(32).toString('base64') },
    secrets: { bootstraptoken: generateToken(), secretboxencryptionsecret: randomBytes(32).toString('base64') },
    trustdinfo: { token: generateToken() },
    certs: {
      etcd: createCertificateAuthority('ecdsa-p256', { organization: ['etcd'] }, now),
      k8s: createCertificateAuthority('ecdsa-p256', { organization: ['kubernetes'] }, now),
      // Talos passes CN "front-proxy", but its CA helper copies only the organization: the subject is empty.
      k8saggregator: createCertificateAuthority('ecdsa-p256', {}, now),
      k8sserviceaccount: { key: privateKeyPem(generateKeyPair('rsa-4096').privateKey) },
      os: createCertificateAuthority('ed25519', { organization: ['talos'] }, now),
    },
  };
}

/**
 * The admin client for talosconfig: Ed25519 (the OS CA is Ed25519), O=os:admin, signed by the OS CA, one year,
 * KeyUsage digitalSignature and ExtKeyUsage exactly [clientAuth] (apid rejects anything else).
 */
export function createAdminClient(bundle: SecretsBundle, now: Date = new Date(), roles: string[] = ['os:admin']): PemPair {
  const caKey = loadPrivateKey(bundle.certs.os.key);
  const keys = generateKeyPair('ed25519');
  const notBefore = wholeSeconds(now);
  const { pem } = createCertificate({
    subject: { organization: roles },
    publicKey: keys.publicKey,
    // The CA's own identifier, whatever way it was made (talosctl's CAs carry a random one).
    issuer: { name: { organization: ['talos'] }, privateKey: caKey, keyId: subjectKeyIdOf(bundle.certs.os.crt) ?? subjectKeyId(publicKeyOf(caKey)) },
    notBefore,
    notAfter: new Date(notBefore.getTime() + CLIENT_VALIDITY_HOURS * HOUR_MS),
    isCA: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
  });
  return { crt: pem, key: privateKeyPem(keys.privateKey) };
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');

/** secrets.yaml text as talosctl writes it (go-yaml, 4-space indent, fields in struct order). */
export function bundleToYaml(bundle: SecretsBundle): string {
  const pair = (p: PemPair) => ({ crt: b64(p.crt), key: b64(p.key) });
  const doc = new Document({
    cluster: bundle.cluster,
    secrets: bundle.secrets,
    trustdinfo: bundle.trustdinfo,
    certs: {
      etcd: pair(bundle.certs.etcd),
      k8s: pair(bundle.certs.k8s),
      k8saggregator: pair(bundle.certs.k8saggregator),
      k8sserviceaccount: { key: b64(bundle.certs.k8sserviceaccount.key) },
      os: pair(bundle.certs.os),
    },
  });
  return doc.toString({ indent: 4, lineWidth: 0 });
}

export class BundleError extends Error {}

function field(source: unknown, path: string): string {
  const value = path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), source);
  if (typeof value !== 'string' || value === '') throw new BundleError(`secrets bundle: ${path} is missing`);
  return value;
}

/** Reads a talosctl secrets.yaml. aescbcencryptionsecret bundles (contracts before 1.3) are refused. */
export function bundleFromYaml(text: string): SecretsBundle {
  const raw = parse(text) as unknown;
  const pem = (path: string) => {
    const value = unb64(field(raw, path));
    if (!value.includes('-----BEGIN ')) throw new BundleError(`secrets bundle: ${path} is not base64 of a PEM block`);
    return value;
  };
  const pair = (name: string) => ({ crt: pem(`certs.${name}.crt`), key: pem(`certs.${name}.key`) });
  return {
    cluster: { id: field(raw, 'cluster.id'), secret: field(raw, 'cluster.secret') },
    secrets: { bootstraptoken: field(raw, 'secrets.bootstraptoken'), secretboxencryptionsecret: field(raw, 'secrets.secretboxencryptionsecret') },
    trustdinfo: { token: field(raw, 'trustdinfo.token') },
    certs: {
      etcd: pair('etcd'),
      k8s: pair('k8s'),
      k8saggregator: pair('k8saggregator'),
      k8sserviceaccount: { key: pem('certs.k8sserviceaccount.key') },
      os: pair('os'),
    },
  };
}

export function pairToYaml(pair: PemPair): string {
  return new Document({ crt: b64(pair.crt), key: b64(pair.key) }).toString({ indent: 4, lineWidth: 0 });
}

export function pairFromYaml(text: string, label: string): PemPair {
  const raw = parse(text) as unknown;
  return { crt: unb64(field(raw, 'crt')), key: unb64(field(raw, 'key')) || (() => { throw new BundleError(`${label}: key is missing`); })() };
}

import { X509Certificate } from 'node:crypto';
import { decode, decodeOid, type Node } from './der.ts';
import { KEY_USAGE_BITS, OID, type KeyUsage } from './x509.ts';
import { keyMatchesCertificate, loadPrivateKey } from './keys.ts';
import type { PemPair, SecretsBundle } from '../bundle/bundle.ts';

/** Reading certificates back (node:crypto for the basics, DER for KeyUsage bits), and the checks verify runs. */

export interface CertificateInfo {
  algorithm: string;
  curve: string | undefined;
  organization: string[];
  isCA: boolean;
  keyUsage: KeyUsage[];
  extKeyUsage: string[];
  notAfter: Date;
  cert: X509Certificate;
}

function extensions(der: Buffer): Node[] {
  const tbs = decode(der).children[0]!;
  const wrapper = tbs.children.find((c) => c.tag === 0xa3);
  return wrapper ? wrapper.children[0]!.children : [];
}

function keyUsageBits(der: Buffer): KeyUsage[] {
  for (const ext of extensions(der)) {
    if (decodeOid(ext.children[0]!.content) !== OID.keyUsage) continue;
    const bits = decode(ext.children[ext.children.length - 1]!.content).content;
    const bytes = bits.subarray(1);
    return (Object.entries(KEY_USAGE_BITS) as Array<[KeyUsage, number]>).filter(([, bit]) => ((bytes[Math.floor(bit / 8)] ?? 0) & (0x80 >> (bit % 8))) !== 0).map(([name]) => name);
  }
  return [];
}

/**
 * The Subject Key Identifier a certificate carries, if any. An issued certificate's Authority Key Identifier must
 * repeat it: Talos's CAs carry a random one, not the SHA-1 of their key that RFC 5280 suggests.
 */
export function subjectKeyIdOf(pem: string): Buffer | undefined {
  for (const ext of extensions(new X509Certificate(pem).raw)) {
    if (decodeOid(ext.children[0]!.content) !== OID.subjectKeyId) continue;
    return decode(ext.children[ext.children.length - 1]!.content).content;
  }
  return undefined;
}

export function inspectCertificate(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  const key = cert.publicKey;
  // An empty subject (the aggregator CA) comes back as undefined.
  const organization = (cert.subject ?? '')
    .split('\n')
    .filter((line) => line.startsWith('O='))
    .map((line) => line.slice(2));
  return {
    algorithm: key.asymmetricKeyType ?? 'unknown',
    curve: key.asymmetricKeyDetails?.namedCurve,
    organization,
    isCA: cert.ca,
    keyUsage: keyUsageBits(cert.raw),
    extKeyUsage: cert.keyUsage ?? [],
    notAfter: new Date(cert.validTo),
    cert,
  };
}

const DAY_MS = 86_400_000;

export interface PkiReport {
  problems: string[];
  notes: string[];
}

function checkCa(name: string, pair: PemPair, expected: { algorithm: string; curve?: string; organization: string[] }, now: Date, report: PkiReport): void {
  const info = inspectCertificate(pair.crt);
  const label = `certs.${name}`;
  if (info.algorithm !== expected.algorithm || (expected.curve && info.curve !== expected.curve)) {
    report.problems.push(`${label}: ${info.algorithm}${info.curve ? ` ${info.curve}` : ''}, expected ${expected.algorithm}${expected.curve ? ` ${expected.curve}` : ''}`);
  }
  if (info.organization.join(',') !== expected.organization.join(',')) report.problems.push(`${label}: subject O=${info.organization.join(',') || '(empty)'}, expected ${expected.organization.join(',') || 'an empty subject'}`);
  if (!info.isCA) report.problems.push(`${label}: not a CA certificate`);
  if (!info.cert.verify(info.cert.publicKey)) report.problems.push(`${label}: not self-signed`);
  for (const usage of ['keyCertSign', 'digitalSignature'] as const) if (!info.keyUsage.includes(usage)) report.problems.push(`${label}: key usage lacks ${usage}`);
  if (!keyMatchesCertificate(pair.crt, pair.key)) report.problems.push(`${label}: the key does not belong to the certificate`);
  const left = info.notAfter.getTime() - now.getTime();
  if (left < 0) report.problems.push(`${label}: expired ${Math.floor(-left / DAY_MS)} days ago`);
  else if (left < 365 * DAY_MS) report.notes.push(`${label}: expires in ${Math.floor(left / DAY_MS)} days`);
}

/** The bundle's CAs and keys have the algorithms, subjects, usages and validity Talos gives them. */
export function checkBundle(bundle: SecretsBundle, now: Date = new Date()): PkiReport {
  const report: PkiReport = { problems: [], notes: [] };
  checkCa('os', bundle.certs.os, { algorithm: 'ed25519', organization: ['talos'] }, now, report);
  checkCa('etcd', bundle.certs.etcd, { algorithm: 'ec', curve: 'prime256v1', organization: ['etcd'] }, now, report);
  checkCa('k8s', bundle.certs.k8s, { algorithm: 'ec', curve: 'prime256v1', organization: ['kubernetes'] }, now, report);
  checkCa('k8saggregator', bundle.certs.k8saggregator, { algorithm: 'ec', curve: 'prime256v1', organization: [] }, now, report);
  const sa = loadPrivateKey(bundle.certs.k8sserviceaccount.key);
  if (sa.asymmetricKeyType === 'ec') report.notes.push('certs.k8sserviceaccount: an ECDSA key from a bundle made before Talos 1.7 (new bundles use RSA-4096)');
  else if (sa.asymmetricKeyType !== 'rsa' || (sa.asymmetricKeyDetails?.modulusLength ?? 0) < 4096) report.problems.push('certs.k8sserviceaccount: expected an RSA-4096 key');
  for (const [path, token] of [['secrets.bootstraptoken', bundle.secrets.bootstraptoken], ['trustdinfo.token', bundle.trustdinfo.token]] as const) {
    if (!/^[0-9a-z]{6}\.[0-9a-z]{16}$/.test(token)) report.problems.push(`${path}: not a Talos token`);
  }
  if (Buffer.from(bundle.secrets.secretboxencryptionsecret, 'base64').length !== 32) report.problems.push('secrets.secretboxencryptionsecret: must be 32 bytes');
  return report;
}

/** The talosconfig client: issued by the OS CA, Ed25519, O=os:admin, EKU exactly ClientAuth, not expired. */
export function checkAdminClient(client: PemPair, bundle: SecretsBundle, now: Date = new Date()): PkiReport {
  const report: PkiReport = { problems: [], notes: [] };
  const info = inspectCertificate(client.crt);
  const ca = new X509Certificate(bundle.certs.os.crt);
  if (!info.cert.checkIssued(ca) || !info.cert.verify(ca.publicKey)) report.problems.push('admin client: not issued by the bundle\'s OS CA (regenerate it: gw-talos rotate-client)');
  if (info.algorithm !== 'ed25519') report.problems.push(`admin client: ${info.algorithm}, expected ed25519`);
  if (!info.organization.includes('os:admin')) report.problems.push(`admin client: O=${info.organization.join(',')}, expected os:admin`);
  if (info.extKeyUsage.join(',') !== OID.clientAuth) report.problems.push(`admin client: extended key usage ${info.extKeyUsage.join(',') || 'none'}, apid accepts exactly ClientAuth`);
  if (info.isCA) report.problems.push('admin client: must not be a CA');
  if (!keyMatchesCertificate(client.crt, client.key)) report.problems.push('admin client: the key does not belong to the certificate');
  const left = info.notAfter.getTime() - now.getTime();
  if (left < 0) report.problems.push(`admin client: expired ${Math.floor(-left / DAY_MS)} days ago (gw-talos rotate-client)`);
  else if (left < 30 * DAY_MS) report.notes.push(`admin client: expires in ${Math.floor(left / DAY_MS)} days (gw-talos rotate-client)`);
  return report;
}

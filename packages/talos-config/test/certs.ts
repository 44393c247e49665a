import { gzipSync } from 'node:zlib';
import { HOUR_MS, createCertificate, generateKeyPair, subjectKeyId, wholeSeconds, type ExtKeyUsage } from '../src/pki/x509.ts';
import { loadPrivateKey, privateKeyPem, publicKeyOf, standardKeyPem } from '../src/pki/keys.ts';
import type { PemPair } from '../src/bundle/bundle.ts';

/** Certificates the test servers need, issued from a bundle's CAs the way Talos's own services issue them. */

export function issue(ca: PemPair, caName: string[], options: { organization?: string[]; commonName?: string; ips?: string[]; dnsNames?: string[]; extKeyUsage: ExtKeyUsage[]; algorithm?: 'ed25519' | 'ecdsa-p256' }): PemPair {
  const caKey = loadPrivateKey(ca.key);
  const keys = generateKeyPair(options.algorithm ?? (caKey.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'ecdsa-p256'));
  const now = wholeSeconds(new Date(Date.now() - HOUR_MS));
  const { pem } = createCertificate({
    subject: { ...(options.organization ? { organization: options.organization } : {}), ...(options.commonName ? { commonName: options.commonName } : {}) },
    publicKey: keys.publicKey,
    issuer: { name: { organization: caName }, privateKey: caKey, keyId: subjectKeyId(publicKeyOf(caKey)) },
    notBefore: now,
    notAfter: new Date(now.getTime() + 24 * HOUR_MS),
    isCA: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: options.extKeyUsage,
    ...(options.ips ? { ipAddresses: options.ips } : {}),
    ...(options.dnsNames ? { dnsNames: options.dnsNames } : {}),
  });
  return { crt: pem, key: standardKeyPem(privateKeyPem(keys.privateKey)) };
}

/** A self-signed serving certificate, as a node in maintenance mode presents. */
export function selfSigned(ip: string): PemPair {
  const keys = generateKeyPair('ed25519');
  const now = wholeSeconds(new Date(Date.now() - HOUR_MS));
  const { pem } = createCertificate({
    subject: { organization: ['maintenance'] },
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 24 * HOUR_MS),
    isCA: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth'],
    ipAddresses: [ip],
  });
  return { crt: pem, key: standardKeyPem(privateKeyPem(keys.privateKey)) };
}

/** A gzip-compressed tar holding one file, the way Talos streams the kubeconfig. */
export function tarGz(name: string, content: string): Buffer {
  const data = Buffer.from(content, 'utf8');
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number) => header.write(text, offset, 'ascii');
  put(name, 0);
  put('0000600\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  put(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  put(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return gzipSync(Buffer.concat([header, data, padding, Buffer.alloc(1024)]));
}

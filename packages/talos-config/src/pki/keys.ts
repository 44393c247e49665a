import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { toPem } from './x509.ts';

/**
 * Private keys in the PEM forms Talos writes (siderolabs/crypto): Ed25519 as PKCS#8 under the label
 * `ED25519 PRIVATE KEY`, ECDSA as SEC1 `EC PRIVATE KEY`, RSA as PKCS#1 `RSA PRIVATE KEY`.
 */
export function privateKeyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return toPem('ED25519 PRIVATE KEY', key.export({ type: 'pkcs8', format: 'der' }));
    case 'ec':
      return String(key.export({ type: 'sec1', format: 'pem' }));
    case 'rsa':
      return String(key.export({ type: 'pkcs1', format: 'pem' }));
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

const LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

/** The same key under a label OpenSSL (and so Node's TLS) reads: Talos's Ed25519 label is its own. */
export function standardKeyPem(pem: string): string {
  return pem.replaceAll('ED25519 PRIVATE KEY', 'PRIVATE KEY');
}

/** Reads any of the labels Talos accepts (RSA, EC, ED25519 and generic PKCS#8). */
export function loadPrivateKey(pem: string): KeyObject {
  const label = LABEL.exec(pem)?.[1];
  if (label === 'ED25519 PRIVATE KEY') return createPrivateKey(standardKeyPem(pem));
  if (label === 'RSA PRIVATE KEY' || label === 'EC PRIVATE KEY' || label === 'PRIVATE KEY') return createPrivateKey(pem);
  throw new Error('unsupported key type');
}

export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

/** Whether a certificate and a private key belong together. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  const certKey = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const ownKey = publicKeyOf(loadPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  return Buffer.from(certKey).equals(Buffer.from(ownKey));
}

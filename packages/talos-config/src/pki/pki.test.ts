import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, hasCommand } from '@groundwork/kit';
import { bundleFromYaml, bundleToYaml, createAdminClient, generateBundle, generateToken, type SecretsBundle } from '../bundle/bundle.ts';
import { checkAdminClient, checkBundle, inspectCertificate } from './inspect.ts';
import { standardKeyPem } from './keys.ts';

/** The label of a PEM block (what follows its BEGIN marker). */
const pemLabel = (pem: string) => /^-----[A-Z]+ ([A-Z0-9 ]+)-----\n/.exec(pem)?.[1];

const shared = join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'data', 'talos');

function openssl(args: string[], input?: string): string {
  if (!hasCommand('openssl')) throw new Error('openssl is not installed (apt-get install -y openssl)');
  const result = execFile('openssl', args, input === undefined ? {} : { input });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

describe('the secrets bundle, checked by openssl', () => {
  let bundle: SecretsBundle;
  let dir: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(() => {
    bundle = generateBundle(new Date('2026-01-01T10:00:00Z'));
    dir = mkdtempSync(join(tmpdir(), 'gw-pki-'));
  });

  const cases = [
    ['os', 'ED25519', 'O = talos', 'Signature Algorithm: ED25519'],
    ['etcd', 'id-ecPublicKey', 'O = etcd', 'Signature Algorithm: ecdsa-with-SHA256'],
    ['k8s', 'id-ecPublicKey', 'O = kubernetes', 'Signature Algorithm: ecdsa-with-SHA256'],
    ['k8saggregator', 'id-ecPublicKey', '', 'Signature Algorithm: ecdsa-with-SHA256'],
  ] as const;

  for (const [name, algorithm, subject, signature] of cases) {
    it(`certs.${name}: a self-signed 10-year CA with Talos's key usages`, () => {
      const crt = file(`${name}.crt`, bundle.certs[name].crt);
      expect(openssl(['verify', '-CAfile', crt, crt])).toBe(`${crt}: OK\n`);
      const text = openssl(['x509', '-in', crt, '-noout', '-text']);
      expect(text).toContain(`Public Key Algorithm: ${algorithm}`);
      expect(text).toContain(signature);
      if (algorithm === 'id-ecPublicKey') expect(text).toContain('NIST CURVE: P-256');
      expect(openssl(['x509', '-in', crt, '-noout', '-subject']).trim()).toBe(subject ? `subject=${subject}` : 'subject=');
      expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign/);
      expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE/);
      expect(openssl(['x509', '-in', crt, '-noout', '-startdate', '-enddate'])).toBe('notBefore=Jan  1 10:00:00 2026 GMT\nnotAfter=Dec 30 10:00:00 2035 GMT\n');
      const key = file(`${name}.key`, standardKeyPem(bundle.certs[name].key));
      expect(openssl(['pkey', '-in', key, '-pubout'])).toBe(openssl(['x509', '-in', crt, '-noout', '-pubkey']));
    });
  }

  it('uses the PEM labels Talos writes: ED25519 PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY', () => {
    expect([bundle.certs.os.key, bundle.certs.etcd.key, bundle.certs.k8sserviceaccount.key].map(pemLabel)).toEqual(['ED25519 PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']);
    expect(openssl(['rsa', '-noout', '-text', '-in', file('sa.key', bundle.certs.k8sserviceaccount.key)])).toMatch(/^Private-Key: \(4096 bit, 2 primes\)/);
  });

  it('issues the talosconfig client as apid requires: Ed25519, O=os:admin, EKU exactly client auth, one year', () => {
    const client = createAdminClient(bundle, new Date('2026-01-01T10:00:00Z'));
    const os = file('os.crt', bundle.certs.os.crt);
    const crt = file('admin.crt', client.crt);
    expect(openssl(['verify', '-CAfile', os, crt])).toBe(`${crt}: OK\n`);
    const text = openssl(['x509', '-in', crt, '-noout', '-text']);
    expect(text).toContain('Public Key Algorithm: ED25519');
    expect(openssl(['x509', '-in', crt, '-noout', '-subject', '-issuer'])).toBe('subject=O = os:admin\nissuer=O = talos\n');
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    expect(text).not.toContain('CA:TRUE');
    expect(openssl(['x509', '-in', crt, '-noout', '-enddate'])).toBe('notAfter=Jan  1 10:00:00 2027 GMT\n');
    expect(checkAdminClient(client, bundle, new Date('2026-02-01T00:00:00Z'))).toEqual({ problems: [], notes: [] });
    expect(checkAdminClient(client, bundle, new Date('2026-12-19T00:00:00Z')).notes[0]).toMatch(/^admin client: expires in 13 days/);
    expect(checkAdminClient(client, bundle, new Date('2027-02-01T00:00:00Z')).problems[0]).toMatch(/^admin client: expired 30 days ago/);
    expect(checkAdminClient(createAdminClient(generateBundle()), bundle).problems[0]).toMatch(/not issued by the bundle's OS CA/);
  });

  it('makes tokens in Talos\'s format and secrets of the right size', () => {
    for (let i = 0; i < 50; i++) expect(generateToken()).toMatch(/^[0-9a-z]{6}\.[0-9a-z]{16}$/);
    expect(Buffer.from(bundle.cluster.id, 'base64url').length).toBe(32);
    expect(bundle.cluster.id).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(bundle.secrets.secretboxencryptionsecret, 'base64').length).toBe(32);
    expect(checkBundle(bundle, new Date('2026-06-01T00:00:00Z'))).toEqual({ problems: [], notes: [] });
  });

  it('writes and reads talosctl\'s secrets.yaml shape, and reads the one Talos ships', () => {
    const text = bundleToYaml(bundle);
    expect(text.split('\n').filter((l) => /^\S/.test(l))).toEqual(['cluster:', 'secrets:', 'trustdinfo:', 'certs:']);
    expect(text).toMatch(/^ {4}k8sserviceaccount:\n {8}key: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ/m);
    expect(bundleFromYaml(text)).toEqual(bundle);
    const talos = bundleFromYaml(readFileSync(join(shared, 'secrets.example.yaml'), 'utf8'));
    const report = checkBundle(talos, new Date('2025-01-01T00:00:00Z'));
    expect(report.problems).toEqual([]);
    expect(report.notes).toContain('certs.k8sserviceaccount: an ECDSA key from a bundle made before Talos 1.7 (new bundles use RSA-4096)');
    expect(inspectCertificate(talos.certs.k8saggregator.crt).organization).toEqual([]);
  });
});

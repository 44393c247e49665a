import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from '@groundwork/kit';

/**
 * Certificates for the test control plane, issued by openssl from the cluster's own CAs (the ones in its
 * rendered Talos config) the way Talos issues its control plane's leaf certificates.
 */

export interface KeyPair {
  crt: string;
  key: string;
}

export interface LeafRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ips?: string[];
  usages: Array<'serverAuth' | 'clientAuth'>;
}

function openssl(args: string[], dir: string): void {
  const result = execFile('openssl', args, { cwd: dir });
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString().trim()}`);
}

function inScratch<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pki-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const subject = (cn: string, orgs: string[] = []) => `/CN=${cn}${orgs.map((o) => `/O=${o}`).join('')}`;

/** A throw-away ECDSA P-256 CA, for control planes that do not come from a cluster's Talos config. */
export function newCa(commonName: string): KeyPair {
  return inScratch((dir) => {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', subject(commonName), '-days', '3650', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign'], dir);
    return { crt: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  });
}

/** A leaf certificate (ECDSA P-256, one year) signed by `ca`. */
export function issueLeaf(ca: KeyPair, request: LeafRequest): KeyPair {
  return inScratch((dir) => {
    writeFileSync(join(dir, 'ca.crt'), ca.crt);
    writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
    const names = [...(request.dnsNames ?? []).map((n) => `DNS:${n}`), ...(request.ips ?? []).map((ip) => `IP:${ip}`)];
    const keyUsage = request.usages.includes('serverAuth') ? 'digitalSignature,keyEncipherment' : 'digitalSignature';
    openssl(
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.crt',
        '-subj', subject(request.commonName, request.organizations), '-days', '365', '-CA', 'ca.crt', '-CAkey', 'ca.key',
        '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', `keyUsage=critical,${keyUsage}`, '-addext', `extendedKeyUsage=${request.usages.join(',')}`,
        ...(names.length ? ['-addext', `subjectAltName=${names.join(',')}`] : []),
      ],
      dir,
    );
    return { crt: readFileSync(join(dir, 'leaf.crt'), 'utf8'), key: readFileSync(join(dir, 'leaf.key'), 'utf8') };
  });
}

/**
 * A PKCS#10 certificate request (PEM) and its new ECDSA P-256 key, as a kubelet sends one for its serving
 * certificate: the subject and names asked for, no extensions besides the names (usages go in the API object).
 */
export function certificateRequest(request: Omit<LeafRequest, 'usages'>): { csr: string; key: string } {
  return inScratch((dir) => {
    const names = [...(request.dnsNames ?? []).map((n) => `DNS:${n}`), ...(request.ips ?? []).map((ip) => `IP:${ip}`)];
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'req.key', '-out', 'req.csr', '-subj', subject(request.commonName, request.organizations), ...(names.length ? ['-addext', `subjectAltName=${names.join(',')}`] : [])],
      dir,
    );
    return { csr: readFileSync(join(dir, 'req.csr'), 'utf8'), key: readFileSync(join(dir, 'req.key'), 'utf8') };
  });
}

/** The public half of a private key, PEM (what Talos writes as service-account.pub). */
export function publicKeyOf(privateKey: string): string {
  return inScratch((dir) => {
    writeFileSync(join(dir, 'k.pem'), privateKey, { mode: 0o600 });
    openssl(['pkey', '-in', 'k.pem', '-pubout', '-out', 'pub.pem'], dir);
    return readFileSync(join(dir, 'pub.pem'), 'utf8');
  });
}

/** A throw-away RSA key, for a control plane's service-account signer when no cluster gives one. */
export function newRsaKey(): string {
  return inScratch((dir) => {
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'k.pem'], dir);
    return readFileSync(join(dir, 'k.pem'), 'utf8');
  });
}

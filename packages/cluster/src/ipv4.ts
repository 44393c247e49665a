/** Small IPv4 arithmetic for the cluster file's network checks. */

export interface Cidr {
  network: number;
  prefix: number;
  /** The text as written, for messages. */
  text: string;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseCidr(text: string): Cidr | undefined {
  const [ip, prefixText, extra] = text.split('/');
  if (ip === undefined || prefixText === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const address = parseIPv4(ip);
  const prefix = Number(prefixText);
  if (address === undefined || prefix > 32) return undefined;
  return { network: address, prefix, text };
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The network address of the block, i.e. the address with its host bits cleared. */
export function networkOf(cidr: Cidr): number {
  return cidr.network - (cidr.network % blockSize(cidr.prefix));
}

/** A CIDR is canonical when its address has no host bits set (10.0.1.0/24, not 10.0.1.5/24). */
export function isCanonical(cidr: Cidr): boolean {
  return networkOf(cidr) === cidr.network;
}

export function canonicalText(cidr: Cidr): string {
  return `${formatIPv4(networkOf(cidr))}/${cidr.prefix}`;
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  const start = networkOf(cidr);
  return address >= start && address < start + blockSize(cidr.prefix);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const aStart = networkOf(a);
  const bStart = networkOf(b);
  return aStart < bStart + blockSize(b.prefix) && bStart < aStart + blockSize(a.prefix);
}

/** Network and broadcast addresses of blocks larger than /31 cannot be given to a host. */
export function isUsableHost(cidr: Cidr, address: number): boolean {
  if (cidr.prefix >= 31) return cidrContains(cidr, address);
  const start = networkOf(cidr);
  return address > start && address < start + blockSize(cidr.prefix) - 1;
}

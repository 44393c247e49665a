import { randomBytes } from 'node:crypto';
import { SopsError } from '../errors.ts';

/**
 * Shamir secret sharing over GF(2^8) exactly as sops's shamir package (after HashiCorp Vault's) does it:
 * share i is `y[0..n-1] || x` with x = i + 1, so shares written by sops combine here and the reverse.
 */

function mult(a: number, b: number): number {
  let accumulator = 0;
  for (let i = 7; i >= 0; i--) {
    const bitOfB = (b >> i) & 1;
    const aOrZero = -bitOfB & a & 0xff;
    const zeroOr1B = -(accumulator >> 7) & 0x1b;
    accumulator = (aOrZero ^ (zeroOr1B ^ ((accumulator + accumulator) & 0xff))) & 0xff;
  }
  return accumulator;
}

function inverse(a: number): number {
  let b = mult(a, a);
  let c = mult(a, b);
  b = mult(c, c);
  b = mult(b, b);
  c = mult(b, c);
  b = mult(b, b);
  b = mult(b, b);
  b = mult(b, c);
  b = mult(b, b);
  b = mult(a, b);
  return mult(b, b);
}

function div(a: number, b: number): number {
  if (b === 0) throw new SopsError('divide by zero');
  return mult(a, inverse(b));
}

function evaluate(coefficients: Uint8Array, x: number): number {
  if (x === 0) return coefficients[0]!;
  let out = coefficients[coefficients.length - 1]!;
  for (let i = coefficients.length - 2; i >= 0; i--) out = mult(out, x) ^ coefficients[i]!;
  return out;
}

function interpolateAtZero(xs: number[], ys: number[]): number {
  let result = 0;
  for (let i = 0; i < xs.length; i++) {
    let basis = 1;
    for (let j = 0; j < xs.length; j++) {
      if (i === j) continue;
      basis = mult(basis, div(xs[j]!, xs[i]! ^ xs[j]!));
    }
    result ^= mult(ys[i]!, basis);
  }
  return result;
}

export function split(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  if (parts < threshold) throw new SopsError('parts cannot be less than threshold');
  if (parts > 255) throw new SopsError('parts cannot exceed 255');
  if (threshold < 2) throw new SopsError('threshold must be at least 2');
  if (secret.length === 0) throw new SopsError('cannot split an empty secret');
  const out = Array.from({ length: parts }, (_, i) => {
    const share = new Uint8Array(secret.length + 1);
    share[secret.length] = i + 1;
    return share;
  });
  secret.forEach((byte, index) => {
    const coefficients = new Uint8Array(threshold);
    coefficients[0] = byte;
    coefficients.set(randomBytes(threshold - 1), 1);
    for (let i = 0; i < parts; i++) out[i]![index] = evaluate(coefficients, i + 1);
  });
  return out;
}

export function combine(parts: Uint8Array[]): Uint8Array {
  if (parts.length < 2) throw new SopsError('less than two parts cannot be used to reconstruct the secret');
  const length = parts[0]!.length;
  if (length < 2) throw new SopsError('parts must be at least two bytes');
  if (parts.some((p) => p.length !== length)) throw new SopsError('all parts must be the same length');
  const xs = parts.map((p) => p[length - 1]!);
  if (new Set(xs).size !== xs.length) throw new SopsError('duplicate part detected');
  const secret = new Uint8Array(length - 1);
  for (let index = 0; index < secret.length; index++) {
    secret[index] = interpolateAtZero(
      xs,
      parts.map((p) => p[index]!),
    );
  }
  return secret;
}

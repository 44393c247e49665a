import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Comment, GoFloat, GoInt, GoTime, Mapping, Sequence, type Value } from '../src/sops/index.ts';
import { leafBytes } from '../src/sops/values.ts';

/** The shared reference material (real sops vectors and their keys) lives beside the repository. */
export const sharedDir = resolve(process.env.GROUNDWORK_SHARED ?? join(import.meta.dirname, '..', '..', '..', '..', 'shared'));
export const sopsData = join(sharedDir, 'data', 'sops');

if (!existsSync(sopsData)) {
  throw new Error(`the sops vectors are missing: expected ${sopsData} (set GROUNDWORK_SHARED to the shared folder)`);
}

export function sopsFile(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(join(sopsData, relative)));
}

export function sopsText(relative: string): string {
  return readFileSync(join(sopsData, relative), 'utf8');
}

export interface ExpectedVector {
  file: string;
  via: string;
  dataKeyHex: string;
  mac: string;
  macOk: boolean;
  plaintext: string;
}

export function expectedVectors(): ExpectedVector[] {
  return sopsText('expected.jsonl')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ExpectedVector);
}

/** The plaintext as expected.jsonl writes it: strings as strings, other types as {"<type>": "<plaintext>"}. */
export function plainJson(value: Value): unknown {
  if (value instanceof Mapping) return Object.fromEntries(value.entries().map((e) => [String(e.key), plainJson(e.value)]));
  if (value instanceof Sequence) return value.items.filter((i): i is Value => !(i instanceof Comment)).map(plainJson);
  if (value === null || typeof value === 'string') return value;
  const type = typeof value === 'boolean' ? 'bool' : value instanceof GoInt ? 'int' : value instanceof GoFloat ? 'float' : value instanceof GoTime ? 'time' : 'bytes';
  return { [type]: Buffer.from(leafBytes(value)).toString('utf8') };
}

export { scratchDir } from '@groundwork/testkit';

/** The armored PGP test keys, which hold several blocks each. */
export const pgpKeyFiles = [join(sopsData, 'keys', 'sops-functional-tests.asc'), join(sopsData, 'keys', 'flux-pgp.asc')];
export const fluxAgeKeyFile = join(sopsData, 'keys', 'flux-age.txt');
export const fluxAgePqKeyFile = join(sopsData, 'keys', 'flux-age-pq.txt');

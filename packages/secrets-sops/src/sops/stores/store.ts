import type { Branches, Mapping, Value } from '../values.ts';

export type Format = 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';

export const FORMATS: readonly Format[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];

export interface StoreOptions {
  /** YAML indent (default 4) or JSON indent (-1 = tab, default), from .sops.yaml `stores`. */
  indent?: number;
}

/** Reads and writes one file format, with the metadata kept the way that format keeps it. */
export interface Store {
  readonly format: Format;
  loadPlain(bytes: Uint8Array): Branches;
  emitPlain(branches: Branches): Uint8Array;
  /** The data branches and the `sops` mapping (unflattened for flat formats). */
  loadEncrypted(bytes: Uint8Array): { branches: Branches; metadata: Mapping };
  emitEncrypted(branches: Branches, metadata: Mapping): Uint8Array;
  /** One extracted value (`decrypt --extract`). */
  emitValue(value: Value): Uint8Array;
  /** Whether plaintext already carries sops metadata (encrypting it again is refused). */
  hasMetadata(branches: Branches): boolean;
}

/** The format sops infers from a file name: .yaml/.yml, .json, .env, .ini, anything else binary. */
export function formatForPath(path: string): Format {
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  if (/\.json$/i.test(path)) return 'json';
  if (/\.env$/i.test(path)) return 'dotenv';
  if (/\.ini$/i.test(path)) return 'ini';
  return 'binary';
}

export function parseFormat(text: string): Format {
  const normalized = text.toLowerCase() === 'yml' ? 'yaml' : text.toLowerCase();
  if ((FORMATS as readonly string[]).includes(normalized)) return normalized as Format;
  throw new Error(`unknown format "${text}": use one of ${FORMATS.join(', ')}`);
}

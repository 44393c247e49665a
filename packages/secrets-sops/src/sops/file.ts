import { NonceStash, decryptLeaf, encryptLeaf } from './cipher.ts';
import { SopsError, codes } from './errors.ts';
import {
  SOPS_FORMAT_VERSION,
  keyId,
  metadataFromMapping,
  metadataToMapping,
  nowRfc3339,
  rfc3339ToAad,
  type KeyGroup,
  type MasterKey,
  type Metadata,
} from './metadata.ts';
import { normalizeRules, type EncryptionRules } from './rules.ts';
import { decryptBranches, encryptBranches } from './tree.ts';
import { Comment, Mapping, Sequence, cloneValue, leafBytes, type Branches, type Value } from './values.ts';
import { DEFAULT_DECRYPTION_ORDER, newDataKey, retrieveDataKey, wrapDataKey, type KeyServices } from './keys/datakey.ts';
import type { Store } from './stores/index.ts';

/** A decrypted file held in memory: plaintext branches plus everything needed to write it back. */
export interface OpenFile {
  branches: Branches;
  metadata: Metadata;
  dataKey: Uint8Array;
  stash: NonceStash;
  mac: { stored: string; computed: string; verified: boolean };
}

export interface OpenOptions {
  ignoreMac?: boolean;
  decryptionOrder?: readonly string[];
}

function macAad(metadata: Metadata): string {
  return rfc3339ToAad(metadata.lastModified);
}

/** Decrypts a sops file. The MAC is checked unless ignoreMac, with sops's error text and exit code 51. */
export async function openEncrypted(bytes: Uint8Array, store: Store, services: KeyServices, options: OpenOptions = {}): Promise<OpenFile> {
  const { branches, metadata: metadataTree } = store.loadEncrypted(bytes);
  const metadata = metadataFromMapping(metadataTree);
  const dataKey = await retrieveDataKey(metadata, services, options.decryptionOrder ?? DEFAULT_DECRYPTION_ORDER);
  const stash = new NonceStash();
  const { mac: computed } = decryptBranches(branches, dataKey, normalizeRules(metadata.rules), stash);
  let stored = '';
  let macError: string | undefined;
  try {
    const decrypted = decryptLeaf(metadata.mac, dataKey, macAad(metadata));
    stored = typeof decrypted === 'string' ? decrypted : '';
  } catch (error) {
    macError = (error as Error).message;
  }
  const verified = macError === undefined && stored === computed;
  if (!options.ignoreMac) {
    if (macError !== undefined) throw new SopsError(`Cannot decrypt MAC: ${macError}`, codes.MacMismatch, 'the file or its MAC was changed outside sops; use --ignore-mac only if you trust the content');
    if (!verified) {
      throw new SopsError(
        `MAC mismatch. File has ${stored || 'no MAC'}, computed ${computed}`,
        codes.MacMismatch,
        'a value, the MAC or lastmodified was changed outside sops; use --ignore-mac only if you trust the content',
      );
    }
  }
  return { branches, metadata, dataKey, stash, mac: { stored, computed, verified } };
}

/** Encrypts an open file back, with its data key; unchanged values keep their ciphertext. */
export function sealOpenFile(file: OpenFile, store: Store, options: { now?: Date } = {}): Uint8Array {
  const branches = file.branches.map((b) => cloneValue(b));
  const mac = encryptBranches(branches, file.dataKey, normalizeRules(file.metadata.rules), file.stash);
  const lastModified = nowRfc3339(options.now);
  const metadata: Metadata = { ...file.metadata, lastModified, mac: encryptLeaf(mac, file.dataKey, rfc3339ToAad(lastModified)), version: SOPS_FORMAT_VERSION };
  return store.emitEncrypted(branches, metadataToMapping(metadata));
}

export interface EncryptOptions {
  keyGroups: KeyGroup[];
  shamirThreshold?: number;
  rules?: EncryptionRules;
  services: KeyServices;
  now?: Date;
}

/** Encrypts a plaintext file with a new data key (sops encrypt). */
export async function encryptPlain(bytes: Uint8Array, input: Store, output: Store, options: EncryptOptions): Promise<Uint8Array> {
  const branches = input.loadPlain(bytes);
  if (branches.length === 0) throw new SopsError('File cannot be completely empty, it must contain at least one document', codes.NeedAtLeastOneDocument);
  if (output.hasMetadata(branches)) {
    throw new SopsError(
      "The file you have provided contains a top-level entry called 'sops', or for flat file formats top-level entries starting with 'sops_'. This is generally due to the file already being encrypted.",
      codes.FileAlreadyEncrypted,
      'to change an encrypted file, use edit, set or rotate',
    );
  }
  const dataKey = newDataKey();
  const { groups, threshold } = await wrapDataKey(options.keyGroups, dataKey, options.shamirThreshold ?? 0, options.services);
  // Binary files carry no encryption rule: the single value is always encrypted.
  const rules = output.format === 'binary' ? {} : normalizeRules(options.rules ?? {}, 'rule');
  const metadata: Metadata = { keyGroups: groups, shamirThreshold: threshold, lastModified: '', mac: '', rules, version: SOPS_FORMAT_VERSION };
  return sealOpenFile({ branches, metadata, dataKey, stash: new NonceStash(), mac: { stored: '', computed: '', verified: true } }, output, options.now ? { now: options.now } : {});
}

/** The plaintext of an open file in a format (sops decrypt, --output-type). */
export function emitPlaintext(file: OpenFile, output: Store): Uint8Array {
  return output.emitPlain(file.branches);
}

function sameKey(a: MasterKey, b: MasterKey): boolean {
  if (a.type === 'age' && b.type === 'age') return a.recipient === b.recipient;
  if (a.type === 'pgp' && b.type === 'pgp') return a.fingerprint === b.fingerprint;
  return false;
}

export interface KeyChanges {
  addAge?: string[];
  removeAge?: string[];
  addPgp?: string[];
  removePgp?: string[];
}

/** sops rotate: a new data key, every value re-encrypted, keys added to group 0 and removed everywhere. */
export async function rotate(file: OpenFile, store: Store, services: KeyServices, changes: KeyChanges = {}): Promise<Uint8Array> {
  const removed = (key: MasterKey) =>
    (key.type === 'age' && (changes.removeAge ?? []).includes(key.recipient)) || (key.type === 'pgp' && (changes.removePgp ?? []).includes(key.fingerprint));
  const groups = file.metadata.keyGroups.map((group) => group.filter((key) => !removed(key)));
  const additions: MasterKey[] = [
    ...(changes.addAge ?? []).map((recipient) => ({ type: 'age' as const, recipient, enc: '' })),
    ...(changes.addPgp ?? []).map((fingerprint) => ({ type: 'pgp' as const, fingerprint, createdAt: '', enc: '' })),
  ];
  if (groups.length === 0) groups.push([]);
  for (const key of additions) if (!groups[0]!.some((k) => sameKey(k, key))) groups[0]!.push(key);
  const dataKey = newDataKey();
  const wrapped = await wrapDataKey(groups.filter((g) => g.length > 0), dataKey, file.metadata.shamirThreshold, services);
  return sealOpenFile({ ...file, dataKey, stash: new NonceStash(), metadata: { ...file.metadata, keyGroups: wrapped.groups, shamirThreshold: wrapped.threshold } }, store);
}

function groupSignature(group: KeyGroup): string {
  return group.map(keyId).sort().join(',');
}

export interface KeyUpdate {
  changed: boolean;
  added: string[];
  removed: string[];
  output?: Uint8Array;
}

/**
 * sops updatekeys: re-wraps the existing data key for the groups `.sops.yaml` now names. Values, the MAC
 * and lastmodified stay as they are, since the data key does not change. Nothing is written without a change.
 */
export async function updateKeys(bytes: Uint8Array, store: Store, services: KeyServices, groups: KeyGroup[], threshold: number, options: OpenOptions = {}): Promise<KeyUpdate> {
  const { branches, metadata: metadataTree } = store.loadEncrypted(bytes);
  const metadata = metadataFromMapping(metadataTree);
  const before = metadata.keyGroups.map(groupSignature);
  const after = groups.map(groupSignature);
  // As in sops: with several groups the threshold is the rule's (or the file's), at most the number of groups.
  const wantedThreshold = groups.length > 1 ? Math.min(threshold || metadata.shamirThreshold || groups.length, groups.length) : 0;
  const changed = before.join('|') !== after.join('|') || (groups.length > 1 && wantedThreshold !== metadata.shamirThreshold);
  const flat = (sigs: string[]) => new Set(sigs.flatMap((s) => s.split(',')).filter(Boolean));
  const [oldKeys, newKeys] = [flat(before), flat(after)];
  const added = [...newKeys].filter((k) => !oldKeys.has(k));
  const removed = [...oldKeys].filter((k) => !newKeys.has(k));
  if (!changed) return { changed, added, removed };
  const dataKey = await retrieveDataKey(metadata, services, options.decryptionOrder ?? DEFAULT_DECRYPTION_ORDER);
  const wrapped = await wrapDataKey(groups, dataKey, wantedThreshold, services);
  const next: Metadata = { ...metadata, keyGroups: wrapped.groups, shamirThreshold: wrapped.threshold };
  return { changed, added, removed, output: store.emitEncrypted(branches, metadataToMapping(next)) };
}

/** Deep equality of tree values by type and plaintext bytes (for set --idempotent and edit). */
export function valuesEqual(a: Value | Comment, b: Value | Comment): boolean {
  if (a instanceof Mapping || b instanceof Mapping) {
    if (!(a instanceof Mapping && b instanceof Mapping) || a.items.length !== b.items.length) return false;
    return a.items.every((item, i) => {
      const other = b.items[i]!;
      if (item instanceof Comment || other instanceof Comment) return item instanceof Comment && other instanceof Comment && item.value === other.value;
      return item.key === other.key && valuesEqual(item.value, other.value);
    });
  }
  if (a instanceof Sequence || b instanceof Sequence) {
    if (!(a instanceof Sequence && b instanceof Sequence) || a.items.length !== b.items.length) return false;
    return a.items.every((item, i) => valuesEqual(item, b.items[i]!));
  }
  if (a === null || b === null) return a === b;
  if (a instanceof Comment || b instanceof Comment) return a instanceof Comment && b instanceof Comment && a.value === b.value;
  return a.constructor === b.constructor && Buffer.from(leafBytes(a)).equals(Buffer.from(leafBytes(b)));
}

/** filestatus: a file counts as encrypted when it has sops metadata with a version and a MAC. */
export function fileStatus(bytes: Uint8Array, store: Store): { encrypted: boolean } {
  let metadata: Mapping;
  try {
    metadata = store.loadEncrypted(bytes).metadata;
  } catch (error) {
    if (error instanceof SopsError && error.message === 'sops metadata not found') return { encrypted: false };
    throw new SopsError(`cannot check file status: cannot load encrypted file: ${(error as Error).message}`, codes.ErrorGeneric);
  }
  const present = (value: Value | undefined) => value !== undefined && value !== null && value !== '';
  return { encrypted: present(metadata.get('version')) && present(metadata.get('mac')) };
}

import { Comment, GoInt, Mapping, Sequence, type Value } from './values.ts';
import { RULE_FIELDS, normalizeRules, type EncryptionRules } from './rules.ts';
import { SopsError, codes } from './errors.ts';

/** The sops version whose file format groundwork writes (the `version` field readers see). */
export const SOPS_FORMAT_VERSION = '3.13.2';

export interface AgeMasterKey {
  type: 'age';
  recipient: string;
  enc: string;
}

export interface PgpMasterKey {
  type: 'pgp';
  fingerprint: string;
  createdAt: string;
  enc: string;
}

/** Cloud KMS and Vault keys are kept verbatim: groundwork cannot use them, but it must not drop them. */
export interface ForeignMasterKey {
  type: 'kms' | 'gcp_kms' | 'azure_kv' | 'hc_vault' | 'hckms';
  fields: Mapping;
}

export type MasterKey = AgeMasterKey | PgpMasterKey | ForeignMasterKey;
export type KeyGroup = MasterKey[];

/** What a key is, as one comparable string: `age:<recipient>`, `pgp:<fingerprint>`, `kms:<id>`, ... */
export function keyId(key: MasterKey): string {
  if (key.type === 'age') return `age:${key.recipient}`;
  if (key.type === 'pgp') return `pgp:${key.fingerprint}`;
  return `${key.type}:${String(key.fields.get('id') ?? key.fields.get('arn') ?? key.fields.get('resource_id') ?? '')}`;
}

export interface Metadata {
  keyGroups: KeyGroup[];
  shamirThreshold: number;
  /** As written in the file (RFC 3339). */
  lastModified: string;
  /** The encrypted MAC, `ENC[…]`, or '' when the file has none. */
  mac: string;
  rules: EncryptionRules;
  version: string;
}

const FOREIGN_TYPES = ['kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'hckms'] as const;
/** Order in which sops builds a group from the file (stores.internalGroupFrom). */
const GROUP_READ_ORDER = ['kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault', 'pgp', 'age'] as const;

function text(value: Value | undefined, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || value instanceof GoInt) return String(value instanceof GoInt ? value.value : value);
  throw new SopsError(`Error unmarshalling metadata: ${field} must be a string`, codes.ErrorGeneric);
}

/** mapstructure's weakly typed decoding: "true", 1 and true are all true. */
function bool(value: Value | undefined): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value instanceof GoInt) return value.value !== 0n;
  if (typeof value === 'string') return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
  return false;
}

function int(value: Value | undefined, field: string): number {
  if (value === undefined || value === null) return 0;
  if (value instanceof GoInt) return Number(value.value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (value === '') return 0;
  throw new SopsError(`Error unmarshalling metadata: ${field} must be an integer`, codes.ErrorGeneric);
}

function list(value: Value | undefined): Mapping[] {
  if (value === undefined || value === null) return [];
  if (value instanceof Sequence) return value.items.filter((v): v is Mapping => v instanceof Mapping);
  return [];
}

function groupFrom(source: Mapping): KeyGroup {
  const group: KeyGroup = [];
  for (const type of GROUP_READ_ORDER) {
    for (const entry of list(source.get(type))) {
      if (type === 'age') group.push({ type: 'age', recipient: text(entry.get('recipient'), 'age.recipient'), enc: text(entry.get('enc'), 'age.enc') });
      else if (type === 'pgp') {
        group.push({
          type: 'pgp',
          fingerprint: text(entry.get('fp'), 'pgp.fp'),
          createdAt: text(entry.get('created_at'), 'pgp.created_at'),
          enc: text(entry.get('enc'), 'pgp.enc'),
        });
      } else group.push({ type, fields: entry });
    }
  }
  return group;
}

function hasKeys(source: Mapping): boolean {
  return GROUP_READ_ORDER.some((type) => list(source.get(type)).length > 0);
}

/** Reads the `sops` mapping in any key order and any of the shapes sops versions have written. */
export function metadataFromMapping(source: Mapping): Metadata {
  let keyGroups: KeyGroup[];
  if (hasKeys(source)) keyGroups = [groupFrom(source)];
  else if (list(source.get('key_groups')).length > 0) keyGroups = list(source.get('key_groups')).map(groupFrom);
  else throw new SopsError('No keys found in file', codes.ErrorGeneric);
  const rules: EncryptionRules = {};
  for (const [field, key] of RULE_FIELDS) {
    const value = text(source.get(key), key);
    if (value !== '') rules[field] = value;
  }
  if (bool(source.get('mac_only_encrypted'))) rules.macOnlyEncrypted = true;
  const lastModified = text(source.get('lastmodified'), 'lastmodified');
  rfc3339ToAad(lastModified);
  return {
    keyGroups,
    shamirThreshold: int(source.get('shamir_threshold'), 'shamir_threshold'),
    lastModified,
    mac: text(source.get('mac'), 'mac'),
    rules: normalizeRules(rules),
    version: text(source.get('version'), 'version'),
  };
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The MAC's additional data is lastmodified after Go's time.Parse(RFC3339) and Format(RFC3339): fractional
 * seconds dropped, a zero offset written as Z, any other offset kept.
 */
export function rfc3339ToAad(lastModified: string): string {
  const match = RFC3339.exec(lastModified);
  if (!match) throw new SopsError(`Error unmarshalling metadata: lastmodified "${lastModified}" is not an RFC 3339 time`, codes.ErrorGeneric);
  const zone = match[4]!.toUpperCase();
  return `${match[1]}T${match[2]}${zone === 'Z' || zone === '+00:00' || zone === '-00:00' ? 'Z' : zone}`;
}

/** The time sops writes: UTC, whole seconds, Z. */
export function nowRfc3339(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function keyEntries(keys: MasterKey[], type: MasterKey['type']): Mapping[] {
  return keys
    .filter((key) => key.type === type)
    .map((key) => {
      if (key.type === 'age') return new Mapping([{ key: 'enc', value: key.enc }, { key: 'recipient', value: key.recipient }]);
      if (key.type === 'pgp') {
        return new Mapping([
          { key: 'created_at', value: key.createdAt },
          { key: 'enc', value: key.enc },
          { key: 'fp', value: key.fingerprint },
        ]);
      }
      return sortedMapping((key as ForeignMasterKey).fields);
    });
}

function sortedMapping(mapping: Mapping): Mapping {
  const entries = mapping.entries().sort((a, b) => compareKeys(String(a.key), String(b.key)));
  return new Mapping(entries);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupEntries(group: KeyGroup, inKeyGroups: boolean): Array<[string, Value]> {
  const out: Array<[string, Value]> = [];
  for (const type of ['age', 'pgp', ...FOREIGN_TYPES] as const) {
    const entries = keyEntries(group, type);
    // Inside key_groups, sops always writes age and hc_vault (no omitempty on those two fields).
    if (entries.length > 0 || (inKeyGroups && (type === 'age' || type === 'hc_vault'))) out.push([type, new Sequence(entries)]);
  }
  return out;
}

/** Builds the `sops` mapping as sops 3.13 writes it: keys sorted at every level, empty fields left out. */
export function metadataToMapping(metadata: Metadata): Mapping {
  const fields: Array<[string, Value]> = [];
  if (metadata.keyGroups.length === 1) fields.push(...groupEntries(metadata.keyGroups[0]!, false));
  else {
    const groups = metadata.keyGroups.map((group) => {
      const entries = groupEntries(group, true).sort(([a], [b]) => compareKeys(a, b));
      return new Mapping(entries.map(([key, value]) => ({ key, value })));
    });
    fields.push(['key_groups', new Sequence(groups)]);
  }
  fields.push(['lastmodified', metadata.lastModified], ['mac', metadata.mac], ['version', metadata.version]);
  for (const [field, key] of RULE_FIELDS) {
    const value = metadata.rules[field];
    if (value) fields.push([key, value]);
  }
  if (metadata.rules.macOnlyEncrypted) fields.push(['mac_only_encrypted', true]);
  if (metadata.shamirThreshold) fields.push(['shamir_threshold', new GoInt(metadata.shamirThreshold)]);
  fields.sort(([a], [b]) => compareKeys(a, b));
  return new Mapping(fields.map(([key, value]) => ({ key, value })));
}

/** Splits the `sops` entry off every document; metadata is read from the first one (stores.ExtractMetadata). */
export function extractMetadata(branches: Mapping[]): { branches: Mapping[]; metadata: Mapping } {
  let found: Mapping | undefined;
  const stripped = branches.map((branch, index) => {
    const kept: Array<Mapping['items'][number]> = [];
    for (const item of branch.items) {
      if (!(item instanceof Comment) && item.key === 'sops') {
        if (index === 0) {
          if (found) throw new SopsError('Found duplicate sops entry', codes.ErrorGeneric);
          if (!(item.value instanceof Mapping)) throw new SopsError('Found sops entry that is not a mapping', codes.ErrorGeneric);
          found = item.value;
        }
        continue;
      }
      kept.push(item);
    }
    return new Mapping(kept);
  });
  if (!found) throw new SopsError('sops metadata not found', codes.ErrorGeneric);
  return { branches: stripped, metadata: found };
}

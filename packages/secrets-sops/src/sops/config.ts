import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { SopsError, codes } from './errors.ts';
import { goRegExp, type EncryptionRules } from './rules.ts';
import { keyId, type KeyGroup, type MasterKey } from './metadata.ts';
import { Mapping } from './values.ts';
import { ageRecipientKind, parseAgeRecipients } from './keys/age.ts';
import { normalizeFingerprint } from './keys/pgp.ts';

/**
 * `.sops.yaml`: found by walking up from the working directory (config/config.go LookupConfigFile), or
 * given with --config / SOPS_CONFIG. The first creation rule whose path_regex matches the file's path
 * relative to the config's directory wins; a rule without path_regex matches everything.
 */

export interface CreationRule {
  pathRegex: string | undefined;
  keyGroups: KeyGroup[];
  shamirThreshold: number;
  rules: EncryptionRules;
}

export interface SopsConfig {
  path: string;
  creationRules: CreationRule[];
  stores: { yamlIndent?: number; jsonIndent?: number; jsonBinaryIndent?: number };
}

const CONFIG_NAME = '.sops.yaml';

export function findConfigFile(start: string = process.cwd()): string | undefined {
  let dir = resolve(start);
  for (let depth = 0; depth < 100; depth++) {
    const candidate = join(dir, CONFIG_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function keyList(value: unknown, field: string, path: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item !== 'string') throw new SopsError(`${path}: invalid ${field} key configuration: expected string in list`, codes.ErrorReadingConfig);
      return item;
    });
  }
  throw new SopsError(`${path}: invalid ${field} key configuration: expected string or list`, codes.ErrorReadingConfig);
}

function ageKeys(values: string[]): MasterKey[] {
  return values.flatMap(parseAgeRecipients).map((recipient) => {
    ageRecipientKind(recipient);
    return { type: 'age' as const, recipient, enc: '' };
  });
}

function pgpKeys(values: string[]): MasterKey[] {
  return values.flatMap((v) => v.split(',')).map((fp) => fp.trim()).filter(Boolean).map((fp) => ({ type: 'pgp' as const, fingerprint: normalizeFingerprint(fp), createdAt: '', enc: '' }));
}

/** Cloud KMS and Vault keys named in a rule: kept so that encrypting to them fails loudly instead of silently. */
function foreignKeys(source: Record<string, unknown>, path: string): MasterKey[] {
  const fields = [['kms', 'kms'], ['gcp_kms', 'gcp_kms'], ['azure_keyvault', 'azure_kv'], ['hc_vault_transit_uri', 'hc_vault'], ['hc_vault', 'hc_vault'], ['hckms', 'hckms']] as const;
  return fields.flatMap(([field, type]) => {
    const value = source[field];
    const ids = Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : keyList(value, field, path);
    return ids.map((id) => ({ type, fields: new Mapping([{ key: 'id', value: id }]) }));
  });
}

function dedupe(group: MasterKey[]): MasterKey[] {
  const seen = new Set<string>();
  return group.filter((key) => {
    const id = keyId(key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function groupFrom(source: Record<string, unknown>, path: string): MasterKey[] {
  const merged = Array.isArray(source.merge) ? source.merge.flatMap((m) => groupFrom(m as Record<string, unknown>, path)) : [];
  return dedupe([...merged, ...ageKeys(keyList(source.age, 'age', path)), ...pgpKeys(keyList(source.pgp, 'pgp', path)), ...foreignKeys(source, path)]);
}

function ruleFrom(raw: Record<string, unknown>, path: string, index: number): CreationRule {
  const where = `${path}: creation_rules[${index}]`;
  const rules: EncryptionRules = {};
  const fields = [
    ['unencrypted_suffix', 'unencryptedSuffix'],
    ['encrypted_suffix', 'encryptedSuffix'],
    ['unencrypted_regex', 'unencryptedRegex'],
    ['encrypted_regex', 'encryptedRegex'],
    ['unencrypted_comment_regex', 'unencryptedCommentRegex'],
    ['encrypted_comment_regex', 'encryptedCommentRegex'],
  ] as const;
  let count = 0;
  for (const [key, field] of fields) {
    const value = raw[key];
    if (typeof value === 'string' && value !== '') {
      rules[field] = value;
      count++;
    }
  }
  if (count > 1) {
    throw new SopsError(
      `${where}: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule`,
      codes.ErrorReadingConfig,
    );
  }
  if (raw.mac_only_encrypted === true) rules.macOnlyEncrypted = true;
  const keyGroups = Array.isArray(raw.key_groups) && raw.key_groups.length > 0
    ? raw.key_groups.map((g) => groupFrom((g ?? {}) as Record<string, unknown>, where))
    : [groupFrom(raw, where)];
  return {
    pathRegex: typeof raw.path_regex === 'string' && raw.path_regex !== '' ? raw.path_regex : undefined,
    keyGroups,
    shamirThreshold: typeof raw.shamir_threshold === 'number' ? raw.shamir_threshold : 0,
    rules,
  };
}

export function parseConfig(text: string, path: string): SopsConfig {
  let raw: Record<string, unknown>;
  try {
    raw = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new SopsError(`error loading config: Could not unmarshal config file ${path}: ${(error as Error).message.split('\n')[0]}`, codes.ErrorReadingConfig);
  }
  const stores = (raw.stores ?? {}) as Record<string, { indent?: number } | undefined>;
  const creation = Array.isArray(raw.creation_rules) ? raw.creation_rules : [];
  return {
    path,
    creationRules: creation.map((rule, i) => ruleFrom((rule ?? {}) as Record<string, unknown>, path, i)),
    stores: {
      ...(typeof stores.yaml?.indent === 'number' ? { yamlIndent: stores.yaml.indent } : {}),
      ...(typeof stores.json?.indent === 'number' ? { jsonIndent: stores.json.indent } : {}),
      ...(typeof stores.json_binary?.indent === 'number' ? { jsonBinaryIndent: stores.json_binary.indent } : {}),
    },
  };
}

export function loadConfig(path: string): SopsConfig {
  return parseConfig(readFileSync(path, 'utf8'), path);
}

/** The path a rule's regex sees: the file relative to the config's directory, with forward slashes. */
export function rulePath(config: SopsConfig, file: string): string {
  const rel = relative(dirname(resolve(config.path)), resolve(file));
  return rel.startsWith('..') ? resolve(file) : rel.split(sep).join('/');
}

export function creationRuleFor(config: SopsConfig, file: string): CreationRule | undefined {
  const path = rulePath(config, file);
  return config.creationRules.find((rule) => rule.pathRegex === undefined || goRegExp(rule.pathRegex).test(path));
}

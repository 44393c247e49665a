import { resolve } from 'node:path';
import {
  SopsError,
  codes,
  creationRuleFor,
  findConfigFile,
  loadConfig,
  normalizeFingerprint,
  parseAgeRecipients,
  ageRecipientKind,
  type EncryptionRules,
  type KeyGroup,
  type SopsConfig,
  type StoreOptions,
  type Format,
} from '../sops/index.ts';
import { commaList, intFlag, type Flags } from './sops-args.ts';

/** The `.sops.yaml` in effect: --config, then SOPS_CONFIG, then the nearest one above the working directory. */
export function configFor(flags: Flags, env: NodeJS.ProcessEnv = process.env): SopsConfig | undefined {
  const explicit = flags.config ?? env.SOPS_CONFIG;
  const path = explicit ? resolve(explicit) : findConfigFile(process.cwd());
  return path ? loadConfig(path) : undefined;
}

export function storeOptions(flags: Flags, config: SopsConfig | undefined, format: Format): StoreOptions {
  const indent = intFlag(flags.indent, 'indent');
  if (indent !== undefined) return { indent };
  if (format === 'yaml' && config?.stores.yamlIndent !== undefined) return { indent: config.stores.yamlIndent };
  if (format === 'json' && config?.stores.jsonIndent !== undefined) return { indent: config.stores.jsonIndent };
  if (format === 'binary' && config?.stores.jsonBinaryIndent !== undefined) return { indent: config.stores.jsonBinaryIndent };
  return {};
}

export interface EncryptConfig {
  keyGroups: KeyGroup[];
  threshold: number;
  rules: EncryptionRules;
}

const RULE_FLAGS = [
  ['unencrypted-suffix', 'unencryptedSuffix'],
  ['encrypted-suffix', 'encryptedSuffix'],
  ['unencrypted-regex', 'unencryptedRegex'],
  ['encrypted-regex', 'encryptedRegex'],
  ['unencrypted-comment-regex', 'unencryptedCommentRegex'],
  ['encrypted-comment-regex', 'encryptedCommentRegex'],
] as const;

/**
 * Keys and rules for a new file (getEncryptConfig in sops): recipients given on the command line win over
 * `.sops.yaml`; each rule flag wins over the creation rule's value.
 */
export function encryptConfig(flags: Flags, file: string, loaded: SopsConfig | undefined, env: NodeJS.ProcessEnv = process.env): EncryptConfig {
  // As in sops, a config file without creation rules counts as no config when choosing keys.
  const config = loaded && loaded.creationRules.length > 0 ? loaded : undefined;
  const age = parseAgeRecipients(flags.age ?? env.SOPS_AGE_RECIPIENTS ?? '');
  const pgp = commaList(flags.pgp ?? env.SOPS_PGP_FP).map(normalizeFingerprint);
  for (const recipient of age) ageRecipientKind(recipient);
  const rule = age.length || pgp.length ? undefined : config ? creationRuleFor(config, file) : undefined;
  if (!age.length && !pgp.length && config && !rule) {
    throw new SopsError('error loading config: no matching creation rules found', codes.ErrorReadingConfig, `no creation rule in ${config.path} matches ${file}`);
  }
  const keyGroups: KeyGroup[] = age.length || pgp.length
    ? [[...age.map((recipient) => ({ type: 'age' as const, recipient, enc: '' })), ...pgp.map((fingerprint) => ({ type: 'pgp' as const, fingerprint, createdAt: '', enc: '' }))]]
    : (rule?.keyGroups ?? []);
  if (keyGroups.length === 0 || keyGroups.every((g) => g.length === 0)) {
    throw new SopsError(
      "Error: No master keys were provided, so sops can't encrypt the file.",
      codes.NoEncryptionKeyFound,
      'give --age or --pgp, set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml',
    );
  }
  const rules: EncryptionRules = { ...(rule?.rules ?? {}) };
  for (const [flag, field] of RULE_FLAGS) {
    const value = flags[flag];
    if (value) {
      for (const [, other] of RULE_FLAGS) delete rules[other];
      rules[field] = value;
    }
  }
  if (flags['mac-only-encrypted']) rules.macOnlyEncrypted = true;
  const setRules = RULE_FLAGS.filter(([flag]) => flags[flag]);
  if (setRules.length > 1) {
    throw new SopsError(
      'Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex',
      codes.ErrorConflictingParameters,
    );
  }
  return { keyGroups, threshold: intFlag(flags['shamir-secret-sharing-threshold'], 'shamir-secret-sharing-threshold') ?? rule?.shamirThreshold ?? 0, rules };
}

import { parseArgs } from 'node:util';
import { SopsError, codes } from '../sops/index.ts';

/** The flags a sops user types, with sops's short forms; every verb accepts the same set. */
const OPTIONS = {
  decrypt: { type: 'boolean', short: 'd' },
  encrypt: { type: 'boolean', short: 'e' },
  rotate: { type: 'boolean', short: 'r' },
  'in-place': { type: 'boolean', short: 'i' },
  output: { type: 'string' },
  'input-type': { type: 'string' },
  'output-type': { type: 'string' },
  'ignore-mac': { type: 'boolean' },
  extract: { type: 'string' },
  set: { type: 'string' },
  age: { type: 'string', short: 'a' },
  pgp: { type: 'string', short: 'p' },
  config: { type: 'string' },
  'encrypted-regex': { type: 'string' },
  'unencrypted-regex': { type: 'string' },
  'encrypted-suffix': { type: 'string' },
  'unencrypted-suffix': { type: 'string' },
  'encrypted-comment-regex': { type: 'string' },
  'unencrypted-comment-regex': { type: 'string' },
  'mac-only-encrypted': { type: 'boolean' },
  'shamir-secret-sharing-threshold': { type: 'string' },
  indent: { type: 'string' },
  'filename-override': { type: 'string' },
  'decryption-order': { type: 'string' },
  'add-age': { type: 'string' },
  'rm-age': { type: 'string' },
  'add-pgp': { type: 'string' },
  'rm-pgp': { type: 'string' },
  'value-file': { type: 'boolean' },
  'value-stdin': { type: 'boolean' },
  idempotent: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  verbose: { type: 'boolean' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Flags = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

export const VERBS = ['decrypt', 'encrypt', 'rotate', 'edit', 'set', 'unset', 'updatekeys', 'filestatus'] as const;
export type Verb = (typeof VERBS)[number];

export interface Invocation {
  verb: Verb | 'help' | 'version';
  flags: Flags;
  args: string[];
}

export function parseInvocation(argv: string[]): Invocation {
  const first = argv[0];
  const verb = (VERBS as readonly string[]).includes(first ?? '') ? (first as Verb) : undefined;
  let parsed;
  try {
    parsed = parseArgs({ args: verb ? argv.slice(1) : argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new SopsError(`${(error as Error).message}; run gw-sops --help for the accepted flags`, codes.ErrorGeneric);
  }
  const flags = parsed.values as Flags;
  const args = parsed.positionals;
  if (flags.help) return { verb: 'help', flags, args };
  if (flags.version) return { verb: 'version', flags, args };
  if (verb) return { verb, flags, args };
  // The legacy form: sops -d FILE, sops -e FILE, sops -r FILE, sops --set '…' FILE, sops FILE (edit).
  const modes = [flags.decrypt && 'decrypt', flags.encrypt && 'encrypt', flags.rotate && 'rotate', flags.set !== undefined && 'set'].filter(Boolean) as Verb[];
  if (modes.length > 1) throw new SopsError(`Error: only one of --decrypt, --encrypt, --rotate and --set can be used (got ${modes.join(', ')})`, codes.ErrorConflictingParameters);
  if (args.length === 0) return { verb: 'help', flags, args };
  return { verb: modes[0] ?? 'edit', flags, args };
}

export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new SopsError(`invalid value "${value}" for flag --${name}: must be an integer`, codes.ErrorGeneric);
  return Number(value);
}

export const HELP = `gw-sops: SOPS for groundwork, in TypeScript. Reads and writes the same files as the sops CLI and Flux.

Usage:
  gw-sops decrypt [--output FILE | -i] [--extract '["key"][0]'] [--ignore-mac] FILE
  gw-sops encrypt [--age RECIPIENTS | --pgp FPS] [--encrypted-regex RE ...] [-i | --output FILE] FILE
  gw-sops edit FILE                        decrypt into a private temp file, run $EDITOR, re-encrypt if changed
  gw-sops rotate [-i] [--add-age R] [--rm-age R] [--add-pgp FP] [--rm-pgp FP] FILE
  gw-sops set FILE '["key"]["sub"]' '"json value"'   (or --value-file / --value-stdin)
  gw-sops unset FILE '["key"]'
  gw-sops updatekeys [-y] FILE...           re-wrap the data key for the keys .sops.yaml names now
  gw-sops filestatus FILE                   prints {"encrypted":true|false}
  gw-sops -d FILE | -e FILE | -r FILE | FILE   the sops shorthand forms

Formats follow the extension (.yaml .yml .json .env .ini, anything else binary); --input-type and
--output-type override it. Keys: age X25519 (age1…), post-quantum age (age1pq1…) and PGP.

Options:
  -i, --in-place                write the result back to FILE (atomically)
      --output FILE             write the result to FILE instead of stdout
      --input-type, --output-type   yaml, json, dotenv, ini or binary
      --ignore-mac              decrypt even when the MAC does not match
      --extract PATH            decrypt one value, e.g. '["stringData"]["password"]'
  -a, --age LIST                age recipients ($SOPS_AGE_RECIPIENTS)
  -p, --pgp LIST                PGP fingerprints ($SOPS_PGP_FP)
      --config FILE             .sops.yaml to use ($SOPS_CONFIG); default: search upwards from the working directory
      --encrypted-regex, --unencrypted-regex, --encrypted-suffix, --unencrypted-suffix,
      --encrypted-comment-regex, --unencrypted-comment-regex   which values are encrypted (one of them)
      --mac-only-encrypted      the MAC covers only encrypted values
      --shamir-secret-sharing-threshold N
      --indent N                YAML/JSON indentation
      --filename-override NAME  name used for format and creation rules (required when encrypting stdin)
      --decryption-order LIST   key types to try first (default age,pgp; $SOPS_DECRYPTION_ORDER)
      --value-file, --value-stdin, --idempotent   for set and unset
  -y, --yes                     updatekeys: apply without asking
  -h, --help, -v, --version

Identities: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, ~/.config/sops/age/keys.txt; PGP private keys
from GnuPG (SOPS_GPG_EXEC) or armored files in GROUNDWORK_PGP_KEYS. Exit codes are sops's (51 MAC mismatch,
128 no key could open the data key, 200 edit made no change, 203 file already encrypted, ...).
`;

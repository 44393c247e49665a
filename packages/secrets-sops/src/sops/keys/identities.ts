import { existsSync, readFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { execFile } from '@groundwork/kit';
import { SopsError, codes } from '../errors.ts';
import { isAgeIdentity } from './age.ts';

/**
 * Where age identities come from, in sops's order (age/keysource.go loadIdentities): SOPS_AGE_KEY,
 * SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, then the default keys.txt. groundwork adds the cluster's own
 * key file when a command works on a cluster. SSH identities are not supported.
 */
export interface IdentityOptions {
  env?: NodeJS.ProcessEnv;
  /** Further key files to read, e.g. clusters/<name>/age.key. */
  extraFiles?: string[];
}

export interface IdentitySource {
  /** Human-readable origin, for messages (never the key itself). */
  origin: string;
  identities: string[];
}

/**
 * The key of the cluster a file belongs to: for a file under clusters/<name>/ of a groundwork workspace (a folder
 * with a cluster.yaml), that cluster's age.key. gw-sops reads it after sops's own places.
 */
export function clusterKeyFileFor(file: string): string | undefined {
  let dir = resolve(dirname(file));
  for (;;) {
    const parent = dirname(dir);
    if (basename(parent) === 'clusters' && existsSync(join(dir, 'cluster.yaml'))) return join(dir, 'age.key');
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Reads an age key file: one or more keys per line, `#` comments and blank lines skipped. */
export function parseAgeKeyText(text: string, origin: string): string[] {
  if (text.startsWith('age-encryption.org/') || text.includes('-----BEGIN AGE ENCRYPTED FILE-----')) {
    throw new SopsError(`${origin}: passphrase-protected age key files are not supported by groundwork`, codes.CouldNotRetrieveKey);
  }
  const identities: string[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    for (const token of line.split(/\s+/)) {
      if (isAgeIdentity(token)) identities.push(token);
      else if (token.startsWith('AGE-PLUGIN-')) continue;
      else throw new SopsError(`${origin}: line ${index + 1} is not an age identity`, codes.CouldNotRetrieveKey);
    }
  });
  return identities;
}

/** The default key file: <user config dir>/sops/age/keys.txt, as Go's os.UserConfigDir resolves it. */
export function defaultAgeKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME ?? homedir();
  if (platform() === 'darwin') return join(env.XDG_CONFIG_HOME ?? join(home, 'Library', 'Application Support'), 'sops', 'age', 'keys.txt');
  if (platform() === 'win32') return join(env.AppData ?? home, 'sops', 'age', 'keys.txt');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'sops', 'age', 'keys.txt');
}

export class AgeIdentities {
  private readonly env: NodeJS.ProcessEnv;
  private readonly fixed: IdentitySource[] = [];
  private readonly fromCommand = new Map<string, string[]>();

  /** Every place looked in, found or not, for messages. */
  readonly searched: string[] = [];

  constructor(options: IdentityOptions = {}) {
    this.env = options.env ?? process.env;
    const env = this.env;
    if (env.SOPS_AGE_KEY) this.searched.push('SOPS_AGE_KEY');
    if (env.SOPS_AGE_KEY_FILE) this.searched.push(`SOPS_AGE_KEY_FILE (${env.SOPS_AGE_KEY_FILE})`);
    if (env.SOPS_AGE_KEY_CMD) this.searched.push('SOPS_AGE_KEY_CMD');
    this.searched.push(`${defaultAgeKeyFile(env)}${existsSync(defaultAgeKeyFile(env)) ? '' : ' (missing)'}`);
    for (const file of options.extraFiles ?? []) this.searched.push(`${file}${existsSync(file) ? '' : ' (missing)'}`);
    if (env.SOPS_AGE_KEY) this.fixed.push({ origin: 'SOPS_AGE_KEY', identities: parseAgeKeyText(env.SOPS_AGE_KEY, 'SOPS_AGE_KEY') });
    if (env.SOPS_AGE_KEY_FILE) this.fixed.push(readKeyFile(env.SOPS_AGE_KEY_FILE, 'SOPS_AGE_KEY_FILE', true));
    const fallback = defaultAgeKeyFile(env);
    if (existsSync(fallback)) this.fixed.push(readKeyFile(fallback, fallback, false));
    for (const file of options.extraFiles ?? []) if (existsSync(file)) this.fixed.push(readKeyFile(file, file, false));
  }

  /** Every identity to try for a stanza addressed to `recipient`. */
  forRecipient(recipient: string): string[] {
    const all = this.fixed.flatMap((s) => s.identities);
    const command = this.env.SOPS_AGE_KEY_CMD;
    if (command) {
      let fromCmd = this.fromCommand.get(recipient);
      if (!fromCmd) {
        const result = execFile('sh', ['-c', command], { env: { ...this.env, SOPS_AGE_RECIPIENT: recipient } });
        if (result.status !== 0) throw new SopsError(`SOPS_AGE_KEY_CMD failed with exit code ${result.status}`, codes.CouldNotRetrieveKey);
        fromCmd = parseAgeKeyText(result.stdout.toString('utf8'), 'SOPS_AGE_KEY_CMD');
        this.fromCommand.set(recipient, fromCmd);
      }
      all.push(...fromCmd);
    }
    return [...new Set(all)];
  }

  /** Where identities were found (for "no identity at hand" messages); never the keys themselves. */
  origins(): string[] {
    const origins = this.fixed.filter((s) => s.identities.length > 0).map((s) => s.origin);
    if (this.env.SOPS_AGE_KEY_CMD) origins.push('SOPS_AGE_KEY_CMD');
    return origins;
  }

  get count(): number {
    return this.fixed.reduce((n, s) => n + s.identities.length, 0);
  }
}

function readKeyFile(file: string, origin: string, required: boolean): IdentitySource {
  if (!existsSync(file)) {
    if (required) throw new SopsError(`${origin}: ${file} does not exist`, codes.CouldNotRetrieveKey);
    return { origin, identities: [] };
  }
  return { origin, identities: parseAgeKeyText(readFileSync(file, 'utf8'), origin) };
}

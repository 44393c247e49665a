import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { execFile, hasCommand } from '@groundwork/kit';
import { SopsError, codes } from '../errors.ts';

/**
 * PGP key wrapping. Keys come from armored key files (GROUNDWORK_PGP_KEYS, a colon-separated list, or
 * files given by the caller) and, like sops, from GnuPG: public keys are exported with `gpg --export`, and a
 * stanza no loaded private key opens is handed to `gpg --decrypt` ($SOPS_GPG_EXEC overrides the binary).
 */

const ARMORED_KEY_BLOCK = /-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g;

export function normalizeFingerprint(fp: string): string {
  return fp.replace(/\s+/g, '').toUpperCase();
}

function fingerprintsOf(key: openpgp.Key): string[] {
  return [key.getFingerprint(), ...key.getSubkeys().map((s) => s.getFingerprint())].map(normalizeFingerprint);
}

export class PgpKeyring {
  private readonly publicKeys: openpgp.Key[] = [];
  private readonly privateKeys: openpgp.PrivateKey[] = [];
  private readonly gpgEnabled: boolean;

  private constructor(useGpg: boolean) {
    this.gpgEnabled = useGpg;
  }

  /** Builds a keyring from armored texts; each text may hold several public and private key blocks. */
  static async create(options: { armored?: string[]; files?: string[]; useGpg?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<PgpKeyring> {
    const env = options.env ?? process.env;
    const ring = new PgpKeyring(options.useGpg ?? env.GROUNDWORK_PGP_NO_GPG !== '1');
    const files = [...(options.files ?? []), ...(env.GROUNDWORK_PGP_KEYS ?? '').split(':').filter(Boolean)];
    const texts = [...(options.armored ?? []), ...files.map((f) => readFileSync(f, 'utf8'))];
    for (const text of texts) await ring.addArmored(text);
    return ring;
  }

  async addArmored(text: string): Promise<void> {
    for (const block of text.match(ARMORED_KEY_BLOCK) ?? []) {
      if (block.includes('PRIVATE KEY BLOCK')) {
        const key = await openpgp.readPrivateKey({ armoredKey: block });
        this.privateKeys.push(key);
        this.publicKeys.push(key.toPublic());
      } else {
        this.publicKeys.push(await openpgp.readKey({ armoredKey: block }));
      }
    }
  }

  get usesGpg(): boolean {
    return this.gpgEnabled && hasCommand(gpgBinary());
  }

  private async publicKeyFor(fingerprint: string): Promise<openpgp.Key | undefined> {
    const fp = normalizeFingerprint(fingerprint);
    const loaded = this.publicKeys.find((k) => fingerprintsOf(k).includes(fp));
    if (loaded || !this.usesGpg) return loaded;
    const exported = execFile(gpgBinary(), ['--batch', '--armor', '--export', fp]);
    if (exported.status !== 0 || exported.stdout.length === 0) return undefined;
    const key = await openpgp.readKey({ armoredKey: exported.stdout.toString('utf8') });
    this.publicKeys.push(key);
    return key;
  }

  async wrap(fingerprint: string, dataKey: Uint8Array): Promise<string> {
    const key = await this.publicKeyFor(fingerprint);
    if (!key) {
      throw new SopsError(
        `could not encrypt data key with PGP key ${normalizeFingerprint(fingerprint)}: key not found`,
        codes.ErrorGeneric,
        'import the public key into GnuPG (gpg --import) or list its armored file in GROUNDWORK_PGP_KEYS',
      );
    }
    const message = await openpgp.createMessage({ binary: dataKey });
    const armored = await openpgp.encrypt({ message, encryptionKeys: key, format: 'armored' });
    // go-crypto's armor, which sops uses, ends without a newline (so YAML shows `enc: |-`).
    return String(armored).replace(/\n+$/, '');
  }

  /** Opens a stanza with a loaded private key, else with gpg. Undefined when neither can. */
  async unwrap(enc: string): Promise<Uint8Array | undefined> {
    let message: openpgp.Message<Uint8Array>;
    try {
      message = await openpgp.readMessage({ armoredMessage: enc });
    } catch (error) {
      throw new SopsError(`failed to read PGP stanza: ${(error as Error).message}`, codes.CouldNotRetrieveKey);
    }
    const recipients = message.getEncryptionKeyIDs().map((id) => id.toHex().toUpperCase());
    const candidates = this.privateKeys.filter((key) => key.getKeys().some((k) => recipients.includes(k.getKeyID().toHex().toUpperCase())));
    for (const key of candidates) {
      if (!key.isDecrypted()) continue;
      try {
        const { data } = await openpgp.decrypt({
          message,
          decryptionKeys: key,
          format: 'binary',
          config: { minRSABits: 1024 },
        });
        return data as Uint8Array;
      } catch {
        // Try the next key, then gpg.
      }
    }
    if (!this.usesGpg) return undefined;
    const result = execFile(gpgBinary(), ['--batch', '--quiet', '--no-tty', '--decrypt'], { input: enc });
    if (result.status !== 0 || result.stdout.length === 0) return undefined;
    return new Uint8Array(result.stdout);
  }
}

function gpgBinary(): string {
  return process.env.SOPS_GPG_EXEC || 'gpg';
}

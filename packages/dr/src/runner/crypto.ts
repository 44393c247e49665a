import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';

/**
 * age encryption of whole backup files, streamed in 64 KiB chunks so a dump of any size fits in a small
 * container. Backups are encrypted to the cluster's own age recipients (the public keys in cluster.yaml):
 * the jobs can write them, only the holder of the cluster key can read them.
 */

export class BackupCryptoError extends Error {
  readonly reason: 'wrong-key' | 'damaged';
  constructor(message: string, reason: 'wrong-key' | 'damaged') {
    super(message);
    this.reason = reason;
  }
}

/** Recipients from a file, one per line (comments and blank lines ignored). */
export function readRecipients(file: string): string[] {
  const recipients = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (recipients.length === 0) throw new Error(`${file} lists no age recipient`);
  return recipients;
}

/**
 * Identities from an age key file: every line that is not a comment, as age reads the file. The values are
 * never put in a message.
 */
export function readIdentities(file: string): string[] {
  const identities = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (identities.length === 0) throw new Error(`${file} holds no age identity`);
  return identities;
}

function temporary(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${randomBytes(4).toString('hex')}`);
}

/** Streams `source` through `transform` into `destination`, which appears only when everything succeeded. */
async function streamInto(source: string, destination: string, transform: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>): Promise<void> {
  const partial = temporary(destination);
  try {
    const input = Readable.toWeb(createReadStream(source)) as ReadableStream<Uint8Array>;
    const output = await transform(input);
    await output.pipeTo(Writable.toWeb(createWriteStream(partial, { mode: 0o600 })) as WritableStream<Uint8Array>);
    renameSync(partial, destination);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

export async function encryptFile(source: string, destination: string, recipients: string[]): Promise<void> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  await streamInto(source, destination, (input) => encrypter.encrypt(input));
}

/**
 * Decrypts into `destination`, or fails without leaving anything there: a file encrypted to other keys,
 * cut short or changed anywhere is refused (age authenticates every chunk and marks the last one).
 */
export async function decryptFile(source: string, destination: string, identities: string[], label: string): Promise<void> {
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  try {
    await streamInto(source, destination, (input) => decrypter.decrypt(input));
  } catch (error) {
    const message = (error as Error).message;
    if (/no identity matched/.test(message)) throw new BackupCryptoError(`${label} is not encrypted to this cluster's key (none of its ${identities.length} identit${identities.length === 1 ? 'y' : 'ies'} opens it)`, 'wrong-key');
    throw new BackupCryptoError(`${label} is damaged or incomplete and was not restored (${message})`, 'damaged');
  }
}

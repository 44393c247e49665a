import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyServices, generateAgeIdentity, type KeyGroup, type KeyServices } from '../src/sops/index.ts';
import { pgpKeyFiles, scratchDir } from './shared.ts';

/** The sops functional-test PGP key (rsa2048) whose private half is in the shared key file. */
export const PGP_FP = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';

export interface TestKeys {
  dir: string;
  x25519: { identity: string; recipient: string; file: string };
  hybrid: { identity: string; recipient: string; file: string };
  services: KeyServices;
}

/** Fresh age identities in a scratch folder, plus key services that know them and the PGP test keys. */
export async function freshKeys(): Promise<TestKeys> {
  const dir = scratchDir('gw-keys-');
  const make = async (kind: 'x25519' | 'hybrid') => {
    const { identity, recipient } = await generateAgeIdentity(kind);
    const file = join(dir, `${kind}.txt`);
    writeFileSync(file, `# test key\n${identity}\n`, { mode: 0o600 });
    return { identity, recipient, file };
  };
  const x25519 = await make('x25519');
  const hybrid = await make('hybrid');
  const services = await createKeyServices({
    env: { SOPS_AGE_KEY: `${x25519.identity}\n${hybrid.identity}`, HOME: dir },
    pgpFiles: pgpKeyFiles,
    useGpg: false,
  });
  return { dir, x25519, hybrid, services };
}

export function ageGroup(...recipients: string[]): KeyGroup {
  return recipients.map((recipient) => ({ type: 'age' as const, recipient, enc: '' }));
}

export function pgpGroup(fingerprint: string = PGP_FP): KeyGroup {
  return [{ type: 'pgp' as const, fingerprint, createdAt: '', enc: '' }];
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, UserError, writeFileAtomic } from '@groundwork/kit';
import { creationRuleFor, encryptPlain, formatForPath, openEncrypted, storeFor, type CreationRule, type KeyServices, type OpenFile, type SopsConfig } from '../sops/index.ts';
import { loadRepoSopsConfig } from './sops-rules.ts';

/** The creation rule `.sops.yaml` gives a cluster file; its absence is an error that says how to fix it. */
export function ruleForPath(root: string, path: string, config: SopsConfig | undefined = loadRepoSopsConfig(root)): CreationRule {
  const rule = config ? creationRuleFor(config, join(root, path)) : undefined;
  if (!rule) throw new UserError(`.sops.yaml has no creation rule for ${path}`, { hint: 'run: gw-secrets sync-config' });
  return rule;
}

/** Encrypts plaintext for a workspace path with that path's rule and writes it (atomically, 0600). */
export async function writeEncryptedFile(root: string, path: string, plaintext: Uint8Array, services: KeyServices, config?: SopsConfig): Promise<void> {
  const rule = ruleForPath(root, path, config);
  const store = storeFor(formatForPath(path));
  const bytes = await encryptPlain(plaintext, store, store, { keyGroups: rule.keyGroups, shamirThreshold: rule.shamirThreshold, rules: rule.rules, services });
  writeFileAtomic(join(root, path), bytes, { mode: PRIVATE_FILE_MODE });
}

/** Decrypts a workspace file in memory (MAC checked) and returns its plaintext in its own format. */
export async function readEncryptedFile(root: string, path: string, services: KeyServices): Promise<{ plaintext: Uint8Array; file: OpenFile }> {
  const store = storeFor(formatForPath(path));
  const file = await openEncrypted(new Uint8Array(readFileSync(join(root, path))), store, services);
  return { plaintext: store.emitPlain(file.branches), file };
}

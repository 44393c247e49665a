import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from '@groundwork/kit';
import { isExampleKeyText } from '@groundwork/cluster';
import { parseAllDocuments } from 'yaml';

/**
 * "No plaintext secret or private key is tracked by git": a scan of `git ls-files`. The only private keys
 * allowed are the bundled example clusters' age.key files, whose first line marks them as example keys.
 */

// Built from parts so that this scanner's own source is not mistaken for key material by simpler scanners.
const AGE_IDENTITY = new RegExp(`${['AGE', 'SECRET', 'KEY'].join('-')}-(PQ-)?1[0-9A-Z]{50,}`);
const PEM_PRIVATE_KEY = new RegExp(`-----${'BEGIN'} ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----\\s*\\n(\\S+: .*\\n)*\\s*[A-Za-z0-9+/=]{16,}`);
const EXAMPLE_KEY_PATH = /^clusters\/[^/]+\/age\.key$/;
const MAX_SCAN_BYTES = 5 * 1024 * 1024;

export interface ScanResult {
  /** False when the folder is not a git work tree (nothing could be scanned). */
  scanned: boolean;
  files: number;
  problems: string[];
}

export function trackedFiles(root: string): string[] | undefined {
  const result = execFile('git', ['ls-files', '-z', '--cached'], { cwd: root });
  if (result.status !== 0) return undefined;
  return result.stdout.toString('utf8').split('\0').filter(Boolean);
}

function plaintextSecretProblems(path: string, text: string): string[] {
  if (!/\bkind["']?\s*:\s*["']?Secret\b/.test(text)) return [];
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return [];
  }
  const problems: string[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    const value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
    if (!value || typeof value !== 'object' || value.kind !== 'Secret') continue;
    const hasData = ['data', 'stringData'].some((field) => value[field] && typeof value[field] === 'object' && Object.keys(value[field] as object).length > 0);
    if (hasData && !('sops' in value)) {
      const name = (value.metadata as { name?: string } | undefined)?.name ?? '(unnamed)';
      problems.push(`${path}: Kubernetes Secret "${name}" is tracked in plaintext; encrypt it with gw-sops or move it under clusters/<name>/secrets/`);
    }
  }
  return problems;
}

function dotenvProblems(path: string, text: string): string[] {
  if (!/(^|\/)\.env(\.[^/]+)?$|\.env$/.test(path) || path.endsWith('.example')) return [];
  if (/^sops_mac=ENC\[/m.test(text)) return [];
  const keys = [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=.+$/gm)].map((m) => m[1]!);
  // Tool settings (Nx's, Node's) are not secrets: the workspace's own .env holds only those. A name that says
  // token, key, secret, password or auth is treated as a secret whatever its prefix.
  const setting = (key: string) => /^(NX|NODE)_/.test(key) && !/TOKEN|KEY|SECRET|PASSWORD|AUTH/i.test(key);
  return keys.length && !keys.every(setting) ? [`${path}: dotenv file with values is tracked unencrypted`] : [];
}

export function scanTrackedFiles(root: string): ScanResult {
  const files = trackedFiles(root);
  if (!files) return { scanned: false, files: 0, problems: [] };
  const problems: string[] = [];
  for (const path of files) {
    if (path.startsWith('clusters/') && path.split('/')[2] === 'rendered') {
      problems.push(`${path}: rendered output is tracked by git (it can hold key material); remove it with git rm --cached`);
      continue;
    }
    let text: string;
    try {
      const full = join(root, path);
      if (statSync(full).size > MAX_SCAN_BYTES) continue;
      text = readFileSync(full, 'utf8');
    } catch {
      continue;
    }
    if (AGE_IDENTITY.test(text) || PEM_PRIVATE_KEY.test(text)) {
      if (!(EXAMPLE_KEY_PATH.test(path) && isExampleKeyText(text))) problems.push(`${path}: private key material is tracked by git`);
    }
    if (/\.(ya?ml|json)$/.test(path)) problems.push(...plaintextSecretProblems(path, text));
    problems.push(...dotenvProblems(path, text));
  }
  return { scanned: true, files: files.length, problems };
}

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Mode for anything that holds key material or secret values, encrypted or not. */
export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;

function tempSibling(path: string, kind: string): string {
  return join(dirname(path), `.${basename(path)}.${kind}-${randomBytes(6).toString('hex')}`);
}

function writeAndSync(path: string, data: string | Uint8Array, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // openSync's mode is filtered by the umask; set it explicitly so 0600 is really 0600.
  chmodSync(path, mode);
}

/**
 * Writes a file so that readers see either the old or the new content, never a partial one:
 * the bytes go to a temporary sibling first, then a rename replaces the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempSibling(path, 'tmp');
  try {
    writeAndSync(temp, data, options.mode ?? PUBLIC_FILE_MODE);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export interface OutputFile {
  /** Path relative to the directory being replaced, with forward slashes. */
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

/**
 * Replaces a whole directory with the given files. Everything is written into a temporary sibling
 * directory first; only when all files are on disk is the old directory swapped out, so a failure
 * part-way leaves the previous rendering untouched.
 */
export function replaceDirectoryAtomic(dir: string, files: OutputFile[], options: { dirMode?: number } = {}): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (file.path.startsWith('/') || file.path.split('/').includes('..')) throw new Error(`output path escapes ${dir}: ${file.path}`);
    if (seen.has(file.path)) throw new Error(`output path written twice: ${file.path}`);
    seen.add(file.path);
  }
  mkdirSync(dirname(dir), { recursive: true });
  const staging = tempSibling(dir, 'staging');
  const retired = tempSibling(dir, 'retired');
  try {
    mkdirSync(staging, { mode: options.dirMode ?? 0o755 });
    for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
      const target = join(staging, file.path);
      mkdirSync(dirname(target), { recursive: true, mode: options.dirMode ?? 0o755 });
      writeAndSync(target, file.data, file.mode ?? PUBLIC_FILE_MODE);
    }
    if (existsSync(dir)) renameSync(dir, retired);
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir) && existsSync(retired)) renameSync(retired, dir);
    throw error;
  }
  rmSync(retired, { recursive: true, force: true });
}

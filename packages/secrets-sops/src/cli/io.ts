import { existsSync, readFileSync, statSync } from 'node:fs';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '@groundwork/kit';
import { SopsError, codes } from '../sops/index.ts';

export function readInput(file: string | undefined): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file === undefined || file === '-' ? 0 : file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SopsError(`Error reading file: ${file ?? 'stdin'}: ${reason}`, codes.CouldNotReadInputFile);
  }
}

export function requireExisting(file: string): void {
  if (!existsSync(file)) throw new SopsError(`Error: cannot operate on non-existent file "${file}"`, codes.NoFileSpecified);
}

export interface OutputTarget {
  inPlace?: boolean | undefined;
  output?: string | undefined;
  file?: string | undefined;
  /** Plaintext output: a new file gets mode 0600. */
  plaintext: boolean;
}

/**
 * Writes a result where sops would: back into the file (--in-place), to --output, or to stdout. Files are
 * replaced atomically and keep their mode; a new plaintext file is private (0600).
 */
export function writeResult(bytes: Uint8Array, target: OutputTarget, stdout: NodeJS.WritableStream = process.stdout): void {
  if (target.inPlace && target.output) throw new SopsError('Error: cannot operate on both --output and --in-place', codes.ErrorConflictingParameters);
  const path = target.inPlace ? target.file : target.output;
  if (!path) {
    stdout.write(bytes);
    return;
  }
  const mode = existsSync(path) ? statSync(path).mode & 0o777 : target.plaintext ? PRIVATE_FILE_MODE : 0o644;
  try {
    writeFileAtomic(path, bytes, { mode });
  } catch (error) {
    throw new SopsError(`Could not open ${target.inPlace ? 'in-place' : 'output'} file for writing: ${(error as Error).message}`, codes.CouldNotWriteOutputFile);
  }
}

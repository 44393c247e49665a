import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { isDatabaseDump, isVolumeArchive, type Kind } from './naming.ts';

/**
 * Checks that a backup's plaintext is what it claims to be before it is encrypted and stored, and again
 * after it is fetched: a backup job that stores garbage must fail, not succeed quietly.
 */

export class IntegrityError extends Error {}

const HASH_SIZE = 32;
/** bbolt's magic number and the data format version etcd's database file carries in both meta pages. */
const BOLT_MAGIC = 0xed0cdaed;
const BOLT_VERSION = 2;

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

/**
 * An etcd snapshot as the maintenance API streams it (and Talos and etcdctl save it): a bbolt database whose
 * two meta pages carry bbolt's magic and version, followed by the SHA-256 of the database. A snapshot cut
 * short or changed fails the hash; a file that is no etcd database fails the meta pages.
 */
export async function checkEtcdSnapshot(file: string): Promise<{ bytes: number; pageSize: number }> {
  const size = statSync(file).size;
  if (size < 2 * 4096 + HASH_SIZE) throw new IntegrityError(`${file}: ${size} bytes is too small for an etcd snapshot`);
  const fd = openSync(file, 'r');
  let pageSize: number;
  let expected: Buffer;
  try {
    const meta = readAt(fd, 16, 12);
    pageSize = meta.readUInt32LE(8);
    if (meta.readUInt32LE(0) !== BOLT_MAGIC || meta.readUInt32LE(4) !== BOLT_VERSION) throw new IntegrityError(`${file}: not an etcd snapshot (no bbolt meta page)`);
    if (pageSize < 512 || pageSize > 65536 || (size - HASH_SIZE) % pageSize !== 0) throw new IntegrityError(`${file}: ${size - HASH_SIZE} bytes of database is not a whole number of ${pageSize}-byte pages (cut short?)`);
    const second = readAt(fd, pageSize + 16, 8);
    if (second.readUInt32LE(0) !== BOLT_MAGIC || second.readUInt32LE(4) !== BOLT_VERSION) throw new IntegrityError(`${file}: the second bbolt meta page is damaged`);
    expected = readAt(fd, size - HASH_SIZE, HASH_SIZE);
  } finally {
    closeSync(fd);
  }
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => createReadStream(file, { start: 0, end: size - HASH_SIZE - 1 }).on('data', (c) => hash.update(c)).on('end', resolve).on('error', reject));
  if (!hash.digest().equals(expected)) throw new IntegrityError(`${file}: the SHA-256 at its end does not match its content (damaged or cut short)`);
  return { bytes: size, pageSize };
}

/** pg_dump's custom format starts with "PGDMP"; pg_restore itself checks the rest when it reads the dump. */
export function checkPostgresDump(file: string): { bytes: number } {
  const fd = openSync(file, 'r');
  try {
    if (readAt(fd, 0, 5).toString('latin1') !== 'PGDMP') throw new IntegrityError(`${file}: not a pg_dump custom-format archive`);
  } finally {
    closeSync(fd);
  }
  return { bytes: statSync(file).size };
}

export interface N8nExport {
  format: 'groundwork.dev/n8n-export/v1';
  cluster: string;
  workflows: Array<Record<string, unknown>>;
  credentials: Array<Record<string, unknown>>;
}

export const N8N_EXPORT_FORMAT = 'groundwork.dev/n8n-export/v1';

/** The bundle of n8n's own exports: every workflow with an id and nodes, every credential still encrypted. */
export function checkN8nExport(file: string): { bytes: number; workflows: number; credentials: number } {
  let parsed: N8nExport;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as N8nExport;
  } catch (error) {
    throw new IntegrityError(`${file}: not JSON (${(error as Error).message})`);
  }
  if (parsed?.format !== N8N_EXPORT_FORMAT || !Array.isArray(parsed.workflows) || !Array.isArray(parsed.credentials)) throw new IntegrityError(`${file}: not an n8n export bundle (${N8N_EXPORT_FORMAT})`);
  for (const workflow of parsed.workflows) if (typeof workflow.id !== 'string' || !Array.isArray(workflow.nodes)) throw new IntegrityError(`${file}: a workflow without an id or nodes`);
  for (const credential of parsed.credentials) {
    // n8n's exports without --decrypted keep the data encrypted with the instance key (an OpenSSL-style string).
    if (typeof credential.data !== 'string') throw new IntegrityError(`${file}: credential ${String(credential.id)} is not encrypted (exported with --decrypted?)`);
  }
  return { bytes: statSync(file).size, workflows: parsed.workflows.length, credentials: parsed.credentials.length };
}

const BLOCK = 512;

/**
 * A volume archive (tar.gz, as `tar --create --gzip` writes it): the gzip stream whole (its CRC is checked at
 * the end), every tar header's checksum right, every member's data present, and the two zero blocks that end
 * an archive. Read as a stream, so a large volume takes no memory.
 */
export async function checkVolumeArchive(file: string): Promise<{ bytes: number; entries: number }> {
  let pending = Buffer.alloc(0);
  let skip = 0;
  let entries = 0;
  let ended = false;
  const gunzip = createReadStream(file).pipe(createGunzip());
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      pending = Buffer.concat([pending, chunk]);
      while (!ended && pending.length >= BLOCK) {
        if (skip > 0) {
          const take = Math.min(skip, Math.floor(pending.length / BLOCK)) * BLOCK;
          pending = pending.subarray(take);
          skip -= take / BLOCK;
          continue;
        }
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((b) => b === 0)) {
          ended = true;
          break;
        }
        const stored = parseInt(header.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
        const sum = header.reduce((total, byte, i) => total + (i >= 148 && i < 156 ? 32 : byte), 0);
        if (stored !== sum) throw new IntegrityError(`${file}: tar header ${entries + 1} has a wrong checksum: not a tar archive, or a damaged one`);
        const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
        skip = Math.ceil(size / BLOCK);
        entries += 1;
      }
    }
  } catch (error) {
    if (error instanceof IntegrityError) throw error;
    throw new IntegrityError(`${file}: not a whole gzip stream (${(error as Error).message})`);
  }
  if (!ended || skip > 0) throw new IntegrityError(`${file}: the tar archive ends early (${entries} entries read)`);
  return { bytes: statSync(file).size, entries };
}

export async function checkBackup(kind: Kind, file: string): Promise<string> {
  if (kind === 'etcd') {
    const { bytes, pageSize } = await checkEtcdSnapshot(file);
    return `etcd snapshot, ${bytes} bytes, ${pageSize}-byte pages, SHA-256 intact`;
  }
  if (isDatabaseDump(kind)) return `pg_dump archive, ${checkPostgresDump(file).bytes} bytes`;
  if (isVolumeArchive(kind)) {
    const { bytes, entries } = await checkVolumeArchive(file);
    return `volume archive, ${entries} entries, ${bytes} bytes`;
  }
  const { workflows, credentials } = checkN8nExport(file);
  return `n8n export, ${workflows} workflow${workflows === 1 ? '' : 's'}, ${credentials} credential${credentials === 1 ? '' : 's'} (encrypted)`;
}

import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { S3Client, type S3Config } from './s3.ts';

/** Where encrypted backups are kept: a bucket, or a folder (a mounted volume, or a local folder). */
export interface Target {
  /** How messages name it: `s3://bucket/prefix` or the folder. */
  readonly label: string;
  readonly type: 's3' | 'volume';
  /** Stores a local file as folder/file; a reader never sees a partial object. */
  put(folder: string, file: string, source: string): Promise<void>;
  /** The files directly in a folder, with their sizes; an empty list when the folder does not exist. */
  list(folder: string): Promise<Array<{ file: string; size: number }>>;
  get(folder: string, file: string, destination: string): Promise<void>;
  remove(folder: string, file: string): Promise<void>;
}

export class S3Target implements Target {
  readonly type = 's3';
  readonly label: string;
  private readonly client: S3Client;

  constructor(config: S3Config) {
    this.client = new S3Client(config);
    this.label = `s3://${config.bucket}`;
  }

  async put(folder: string, file: string, source: string): Promise<void> {
    // An S3 PUT is atomic: the object appears whole or not at all.
    await this.client.putFile(`${folder}/${file}`, source);
    const stored = await this.client.head(`${folder}/${file}`);
    const size = statSync(source).size;
    if (stored?.size !== size) throw new Error(`${this.label}/${folder}/${file}: stored ${stored?.size ?? 'nothing'} bytes, uploaded ${size}`);
  }

  async list(folder: string) {
    const prefix = `${folder}/`;
    return (await this.client.list(prefix)).filter((o) => !o.key.slice(prefix.length).includes('/')).map((o) => ({ file: o.key.slice(prefix.length), size: o.size }));
  }

  get(folder: string, file: string, destination: string): Promise<void> {
    return this.client.getFile(`${folder}/${file}`, destination);
  }

  remove(folder: string, file: string): Promise<void> {
    return this.client.delete(`${folder}/${file}`);
  }
}

export class FolderTarget implements Target {
  readonly type = 'volume';
  readonly label: string;
  constructor(folder: string) {
    this.label = folder;
  }

  async put(folder: string, file: string, source: string): Promise<void> {
    const target = join(this.label, folder, file);
    mkdirSync(dirname(target), { recursive: true });
    // Hidden while copied, synced, then renamed into place.
    const partial = join(dirname(target), `.${file}.partial-${randomBytes(4).toString('hex')}`);
    try {
      copyFileSync(source, partial);
      const fd = openSync(partial, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(partial, target);
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
  }

  async list(folder: string) {
    const dir = join(this.label, folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => ({ file: e.name, size: statSync(join(dir, e.name)).size }));
  }

  async get(folder: string, file: string, destination: string): Promise<void> {
    copyFileSync(join(this.label, folder, file), destination);
  }

  async remove(folder: string, file: string): Promise<void> {
    rmSync(join(this.label, folder, file));
  }
}

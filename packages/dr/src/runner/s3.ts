import { createHash, createHmac } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { rootCertificates } from 'node:tls';

/**
 * The four S3 calls backups need (put, list, get, delete, plus head), signed with AWS Signature Version 4,
 * over node's own HTTP client: no SDK, so the runner stays small enough for a ConfigMap. Works with AWS,
 * Backblaze B2, Cloudflare R2, Wasabi, MinIO and Garage (path-style or virtual-host addressing).
 */

export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  /** PEM of a private CA the endpoint's certificate chains to, trusted besides the public ones. */
  ca?: string;
}

export interface S3Object {
  key: string;
  size: number;
}

export class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  constructor(message: string, status: number, code: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, and `/` kept in paths. */
export function uriEncode(text: string, keepSlash: boolean): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) return c;
      return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export interface SignInput {
  method: string;
  url: URL;
  headers: Record<string, string>;
  payloadHash: string;
  now: Date;
}

/** Adds x-amz-date, x-amz-content-sha256 and Authorization to the headers (host included in the signature). */
export function sign(config: Pick<S3Config, 'region' | 'accessKeyId' | 'secretAccessKey'>, input: SignInput): Record<string, string> {
  const amzDate = input.now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, host: input.url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': input.payloadHash };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim().replace(/\s+/g, ' ')]));
  const query = [...input.url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const path = uriEncode(decodeURIComponent(input.url.pathname), true);
  const canonical = [input.method, path, query, ...names.map((n) => `${n}:${lower[n]}`), '', names.join(';'), input.payloadHash].join('\n');
  const scope = `${date}/${config.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${config.secretAccessKey}`, date), config.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${config.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (c: Buffer) => chunks.push(c));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
const unescapeXml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Answers worth another try: the store's own trouble, not the request's. */
const RETRIED = [500, 502, 503, 504];

interface SendOptions {
  body?: string;
  payloadHash?: string;
  headers?: Record<string, string>;
  /** A file sent as the body (read again on a retry). */
  upload?: string;
}

export class S3Client {
  readonly config: S3Config;
  private readonly timeoutMs: number;
  constructor(config: S3Config, timeoutMs = 300_000) {
    this.config = config;
    this.timeoutMs = timeoutMs;
  }

  /** Where the bucket is: https://endpoint/bucket/ (path style) or https://bucket.endpoint/. */
  url(key: string, query: Record<string, string> = {}): URL {
    const base = new URL(this.config.endpoint);
    if (!this.config.pathStyle) base.hostname = `${this.config.bucket}.${base.hostname}`;
    const prefix = base.pathname.replace(/\/+$/, '');
    const bucket = this.config.pathStyle ? `/${this.config.bucket}` : '';
    base.pathname = key ? `${prefix}${bucket}/${key}` : `${prefix}${bucket}` || '/';
    for (const [k, v] of Object.entries(query)) base.searchParams.set(k, v);
    return base;
  }

  private sendOnce(method: string, url: URL, options: SendOptions): Promise<IncomingMessage> {
    const payloadHash = options.payloadHash ?? sha256(options.body ?? '');
    const headers = sign(this.config, { method, url, headers: options.headers ?? {}, payloadHash, now: new Date() });
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const ca = this.config.ca && url.protocol === 'https:' ? { ca: [...rootCertificates, this.config.ca] } : {};
      const req = request(url, { method, headers, timeout: this.timeoutMs, ...ca }, resolve);
      req.on('timeout', () => req.destroy(new Error(`no answer in ${this.timeoutMs / 1000}s`)));
      req.on('error', (error) => reject(new S3Error(`S3 ${method} ${url.host}${url.pathname}: ${error.message}`, 0, 'NetworkError')));
      if (options.upload) createReadStream(options.upload).on('error', reject).pipe(req);
      else req.end(options.body);
    });
  }

  /**
   * One call, retried as S3's own SDKs do: a connection the store closed while idle, a 500 or a 503 (SlowDown)
   * is tried again, up to three times with a growing pause; every other answer counts as it is. Every call here
   * can be repeated safely (a PUT sends the whole file again).
   */
  private async call(method: string, url: URL, options: SendOptions = {}, accept: number[] = [200]): Promise<IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      let response: IncomingMessage | undefined;
      let failure: S3Error | undefined;
      try {
        response = await this.sendOnce(method, url, options);
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        failure = error;
      }
      if (response) {
        if (accept.includes(response.statusCode ?? 0)) return response;
        const body = await readAll(response);
        const code = tag(body, 'Code') ?? `HTTP ${response.statusCode}`;
        const message = tag(body, 'Message') ?? response.statusMessage ?? '';
        failure = new S3Error(`S3 ${method} ${url.host}${url.pathname}: ${code}${message ? `: ${message}` : ''}`, response.statusCode ?? 0, code);
        if (!RETRIED.includes(failure.status)) throw failure;
      }
      if (attempt >= 3) throw failure!;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }

  /** Uploads a file; its SHA-256 is signed, so the store rejects a body damaged on the way. */
  async putFile(key: string, file: string): Promise<void> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    const size = statSync(file).size;
    const url = this.url(key);
    await readAll(await this.call('PUT', url, { upload: file, payloadHash: hash.digest('hex'), headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' } }));
  }

  async getFile(key: string, file: string): Promise<void> {
    const url = this.url(key);
    await pipeline(await this.call('GET', url), createWriteStream(file, { mode: 0o600 }));
  }

  async head(key: string): Promise<S3Object | undefined> {
    const url = this.url(key);
    const response = await this.call('HEAD', url, {}, [200, 404]);
    response.resume();
    return response.statusCode === 404 ? undefined : { key, size: Number(response.headers['content-length'] ?? 0) };
  }

  async delete(key: string): Promise<void> {
    const url = this.url(key);
    await readAll(await this.call('DELETE', url, {}, [200, 204]));
  }

  /** Every object under a prefix (ListObjectsV2, following continuation tokens). */
  async list(prefix: string): Promise<S3Object[]> {
    const out: S3Object[] = [];
    let token: string | undefined;
    do {
      const url = this.url('', { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) });
      const body = await readAll(await this.call('GET', url));
      for (const [, entry] of body.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        out.push({ key: unescapeXml(tag(entry!, 'Key') ?? ''), size: Number(tag(entry!, 'Size') ?? 0) });
      }
      token = tag(body, 'IsTruncated') === 'true' ? unescapeXml(tag(body, 'NextContinuationToken') ?? '') : undefined;
    } while (token);
    return out;
  }
}

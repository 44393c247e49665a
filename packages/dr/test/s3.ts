import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { scratchDir } from '@groundwork/testkit';

/**
 * An S3-compatible store on loopback for the tests: s3rver (the npm package) keeps the objects, and in front
 * of it a proxy checks every request's AWS Signature Version 4 the way S3 does, recomputed with AWS's own
 * signer (@smithy/signature-v4), and the body's SHA-256 against the signed one. s3rver alone checks neither.
 */

const require = createRequire(import.meta.url);

/** node's hash in the shape the signer takes (a class, optionally keyed for HMAC). */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) => (typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));

class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export interface TestStore {
  endpoint: string;
  bucket: string;
  /** Requests the proxy refused, with why (a test asserts there are none). */
  refused: string[];
  /** Every request that reached the store: `METHOD /path`. */
  requests: string[];
  /** Troubles for the next requests, one each: a dropped connection, or an HTTP status with S3's error body. */
  faults: Array<'reset' | 500 | 503>;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function verify(req: IncomingMessage, body: Buffer, credentials: { accessKeyId: string; secretAccessKey: string }, region: string): Promise<string | undefined> {
  const authorization = String(req.headers.authorization ?? '');
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!match) return `malformed Authorization: ${authorization.slice(0, 60)}`;
  if (match[1] !== credentials.accessKeyId) return `unknown access key ${match[1]}`;
  if (match[3] !== region) return `signed for region ${match[3]}, the bucket is in ${region}`;
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== createHash('sha256').update(body).digest('hex')) return 'x-amz-content-sha256 does not match the body';
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const signed = match[4]!.split(';');
  const headers = Object.fromEntries(signed.map((h) => [h, String(req.headers[h] ?? '')]));
  const signer = new SignatureV4({ service: 's3', region, credentials, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  const amzDate = String(req.headers['x-amz-date']);
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const query: Record<string, string> = Object.fromEntries(url.searchParams.entries());
  const again = await signer.sign(
    { method: req.method!, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers },
    { signingDate, signableHeaders: new Set(signed) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers.authorization ?? again.headers.Authorization))?.[1];
  return expected === match[5] ? undefined : 'SignatureDoesNotMatch';
}

/** s3rver with one bucket, behind the verifying proxy; the store accepts exactly these credentials. */
export async function startTestStore(options: { bucket: string; credentials: { accessKeyId: string; secretAccessKey: string }; region?: string; tls?: { cert: string; key: string } }): Promise<TestStore> {
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };
  const Account = require('s3rver/lib/models/account') as new (id: number, name: string) => { createKeyPair(id: string, secret: string): void };
  new Account(123456789012, 'groundwork-test').createKeyPair(options.credentials.accessKeyId, options.credentials.secretAccessKey);
  const store = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: scratchDir('gw-s3-'), configureBuckets: [{ name: options.bucket, configs: [] }], vhostBuckets: false });
  const backend = await store.run();
  const region = options.region ?? 'us-east-1';
  const refused: string[] = [];
  const requests: string[] = [];
  const faults: TestStore['faults'] = [];
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      const fault = faults.shift();
      if (fault === 'reset') return void req.socket.destroy();
      if (fault) return void res.writeHead(fault, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?><Error><Code>${fault === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>try again</Message></Error>`);
      const problem = await verify(req, body, options.credentials, region);
      if (problem) {
        refused.push(`${req.method} ${req.url}: ${problem}`);
        res.writeHead(403, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>${problem}</Message></Error>`);
        return;
      }
      requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`);
      const forward = request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${backend.port}` } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', (error) => res.writeHead(502).end(error.message));
      forward.end(body);
    })();
  };
  // A store with its own certificate (a NAS with a private CA) when the test gives one.
  const proxy: Server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    bucket: options.bucket,
    refused,
    requests,
    faults,
    stop: async () => {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await store.close();
    },
  };
}

import { createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import { parse } from 'yaml';

/**
 * One call of the Talos API, MachineService/EtcdSnapshot, spoken directly as gRPC over HTTP/2 with mutual
 * TLS (node:http2 only, so the runner stays small). In the cluster the credentials are the talosconfig
 * Talos writes into the Secret of a talos.dev ServiceAccount (role os:etcd:backup), and the endpoint is the
 * `talos.default` Service in front of the control planes' apid.
 */

export interface TalosEndpoint {
  host: string;
  port: number;
  ca: string;
  crt: string;
  key: string;
}

/** Talos labels Ed25519 keys `ED25519 PRIVATE KEY`; the body is PKCS#8, which TLS reads as `PRIVATE KEY`. */
const standardPem = (pem: string) => pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');

/** The current context of a talosconfig file, its first endpoint (port 50000 unless it names one). */
export function readTalosconfig(file: string): TalosEndpoint {
  const config = parse(readFileSync(file, 'utf8')) as { context?: string; contexts?: Record<string, { endpoints?: string[]; ca?: string; crt?: string; key?: string }> };
  const context = config?.contexts?.[config.context ?? ''];
  if (!context?.endpoints?.length || !context.ca || !context.crt || !context.key) throw new Error(`${file}: no current context with endpoints, ca, crt and key`);
  const endpoint = context.endpoints[0]!;
  const match = /^(.*?)(?::(\d+))?$/.exec(endpoint.replace(/^\[(.*)\](:\d+)?$/, '$1$2'))!;
  const b64 = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  return { host: match[1]!, port: Number(match[2] ?? 50000), ca: b64(context.ca), crt: b64(context.crt), key: standardPem(b64(context.key)) };
}

/** grpc-message is percent-encoded on the wire. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Field 2 (`bytes`) and the error of field 1 (`metadata`) of a common.Data message. */
function decodeData(message: Buffer): { bytes: Buffer[]; error?: string } {
  const bytes: Buffer[] = [];
  let error: string | undefined;
  let offset = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (offset < message.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire !== 2) throw new Error(`EtcdSnapshot: unexpected wire type ${wire}`);
    const length = varint();
    const value = message.subarray(offset, offset + length);
    offset += length;
    if (tag >>> 3 === 2) bytes.push(value);
    if (tag >>> 3 === 1) {
      // common.Metadata: hostname = 1, error = 2.
      for (let i = 0; i < value.length; ) {
        const fieldTag = value[i++]!;
        let len = 0;
        for (let shift = 0; ; shift += 7) {
          const b = value[i++]!;
          len += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) break;
        }
        if (fieldTag >>> 3 === 2) error = value.subarray(i, i + len).toString('utf8');
        i += len;
      }
    }
  }
  return { bytes, error };
}

/**
 * Streams an etcd snapshot into `file`, which appears only when the stream ended with gRPC status OK.
 * Returns the number of bytes written.
 */
export function etcdSnapshot(endpoint: TalosEndpoint, file: string, options: { serverName?: string; timeoutMs?: number } = {}): Promise<number> {
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { mode: 0o600 });
  const session = connect(`https://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`, {
    ca: endpoint.ca,
    cert: endpoint.crt,
    key: endpoint.key,
    servername: options.serverName ?? endpoint.host,
    ALPNProtocols: ['h2'],
  });
  return new Promise<number>((resolve, reject) => {
    let pending = Buffer.alloc(0);
    let written = 0;
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      session.destroy();
    };
    const timer = setTimeout(() => fail(new Error(`EtcdSnapshot: no end after ${(options.timeoutMs ?? 600_000) / 1000}s`)), options.timeoutMs ?? 600_000);
    session.on('error', fail);
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: '/machine.MachineService/EtcdSnapshot',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    let message = '';
    // The status comes in the trailers, or in the headers of a response that has no messages.
    const statusFrom = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] === undefined) return;
      status = String(headers['grpc-status']);
      message = percentDecoded(String(headers['grpc-message'] ?? ''));
    };
    stream.on('response', statusFrom);
    stream.on('trailers', statusFrom);
    stream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending.length < 5 + length) break;
        if (pending[0] !== 0) return fail(new Error('EtcdSnapshot: compressed gRPC messages are not supported'));
        const { bytes, error } = decodeData(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
        if (error) return fail(new Error(`EtcdSnapshot: ${error}`));
        for (const b of bytes) {
          out.write(b);
          written += b.length;
        }
      }
    });
    stream.on('error', fail);
    stream.on('close', () => {
      clearTimeout(timer);
      session.close();
      if (!failure && status !== '0') failure = new Error(`EtcdSnapshot on ${endpoint.host}: gRPC status ${status ?? 'missing'}${message ? `: ${message}` : ''}`);
      if (!failure && pending.length) failure = new Error('EtcdSnapshot: the stream ended inside a message');
      out.end(() => {
        if (failure) {
          rmSync(partial, { force: true });
          reject(failure);
        } else {
          renameSync(partial, file);
          resolve(written);
        }
      });
    });
    // The request: one uncompressed, empty EtcdSnapshotRequest message.
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

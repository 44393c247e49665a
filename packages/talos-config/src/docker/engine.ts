import { request, type IncomingMessage } from 'node:http';
import { UserError } from '@groundwork/kit';

/**
 * A small Docker Engine API client over node:http, so `gw-talos docker` needs no docker CLI and no Docker SDK.
 * It follows what moby's client does: DOCKER_HOST (unix:// or tcp://, plain HTTP), `HEAD /_ping` (falling back
 * to `GET /_ping`) for the daemon's Api-Version, every path prefixed with `/v<version>`, JSON bodies, filters as
 * a JSON query parameter, and the daemon's `{"message": ...}` surfaced as the error.
 */

/** The newest API this client speaks (Docker Engine API v1.54) and the oldest it accepts. */
export const CLIENT_API_VERSION = '1.54';
export const MIN_API_VERSION = '1.40';

export interface EngineTarget {
  socketPath?: string;
  host?: string;
  port?: number;
  /** DOCKER_HOST as given, for messages. */
  display: string;
}

export function engineTarget(env: NodeJS.ProcessEnv = process.env): EngineTarget {
  const display = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (display.startsWith('unix://')) return { socketPath: display.slice('unix://'.length), display };
  const tcp = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(display);
  // Port 2375 is Docker's plain-HTTP port; TLS (DOCKER_TLS_VERIFY, 2376) is not supported here.
  if (tcp) return { host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2] ?? 2375), display };
  throw new UserError(`DOCKER_HOST=${display}: use unix:///path/to/docker.sock or tcp://host:port (plain HTTP)`);
}

/** -1, 0 or 1, comparing API versions such as 1.9 and 1.54 by number. */
export function compareApiVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return Math.sign(am - bm || an - bn);
}

/** A request the daemon refused: its HTTP status and the daemon's own message. */
export class EngineError extends UserError {
  readonly status: number;
  readonly operation: string;
  constructor(operation: string, status: number, daemonMessage: string) {
    super(`Docker refused ${operation}: ${daemonMessage} (HTTP ${status})`);
    this.status = status;
    this.operation = operation;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface EngineRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
}

/** `{"label":{"k=v":true}}`, the form the Engine API takes filters in. */
export function filters(kind: string, values: string[]): string {
  return JSON.stringify({ [kind]: Object.fromEntries(values.map((v) => [v, true])) });
}

export class DockerEngine {
  readonly target: EngineTarget;
  /** The negotiated API version: the daemon's, capped at CLIENT_API_VERSION. */
  readonly apiVersion: string;
  private readonly timeoutMs: number;

  private constructor(target: EngineTarget, apiVersion: string, timeoutMs: number) {
    this.target = target;
    this.apiVersion = apiVersion;
    this.timeoutMs = timeoutMs;
  }

  /** Pings the daemon and settles the API version; a daemon older than MIN_API_VERSION is refused. */
  static async connect(env: NodeJS.ProcessEnv = process.env, options: { timeoutMs?: number } = {}): Promise<DockerEngine> {
    const target = engineTarget(env);
    const timeoutMs = options.timeoutMs ?? 60_000;
    const unversioned = new DockerEngine(target, '', timeoutMs);
    let ping: Response;
    try {
      ping = await unversioned.raw({ method: 'HEAD', path: '/_ping' });
      // Some proxies in front of the daemon refuse HEAD; moby's client then asks again with GET.
      if (ping.status >= 400) ping = await unversioned.raw({ method: 'GET', path: '/_ping' });
    } catch (error) {
      throw new UserError(`no Docker engine answers at ${target.display} (DOCKER_HOST): ${(error as Error).message}`, { hint: 'start Docker, or point DOCKER_HOST at its socket' });
    }
    const daemon = ping.headers['api-version'];
    if (ping.status >= 400 || typeof daemon !== 'string') throw new UserError(`${target.display} does not look like a Docker engine: /_ping answered HTTP ${ping.status}${typeof daemon === 'string' ? '' : ' without an Api-Version header'}`);
    if (compareApiVersions(daemon, MIN_API_VERSION) < 0) {
      throw new UserError(`the Docker engine at ${target.display} speaks API ${daemon}; gw-talos docker needs ${MIN_API_VERSION} or newer (Docker 19.03+)`, { hint: 'upgrade Docker' });
    }
    return new DockerEngine(target, compareApiVersions(daemon, CLIENT_API_VERSION) < 0 ? daemon : CLIENT_API_VERSION, timeoutMs);
  }

  private raw(req: EngineRequest): Promise<Response> {
    const query = Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const path = `${this.apiVersion ? `/v${this.apiVersion}` : ''}${req.path}${query ? `?${query}` : ''}`;
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const where = this.target.socketPath ? { socketPath: this.target.socketPath } : { host: this.target.host, port: this.target.port };
    return new Promise((resolve, reject) => {
      const call = request(
        { ...where, method: req.method, path, timeout: this.timeoutMs, headers: { ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}) } },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      call.on('timeout', () => call.destroy(new Error(`no answer after ${this.timeoutMs}ms`)));
      call.on('error', reject);
      call.end(body);
    });
  }

  /** One request; 4xx/5xx become an EngineError with the daemon's message. `operation` names it in errors. */
  async call<T = unknown>(operation: string, req: EngineRequest): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await this.raw(req);
    } catch (error) {
      throw new UserError(`Docker engine at ${this.target.display}: ${operation} failed: ${(error as Error).message}`);
    }
    if (response.status >= 400) throw new EngineError(operation, response.status, daemonMessage(response.text));
    return { status: response.status, body: parseBody(response.text) as T };
  }

  /**
   * `POST /images/create` answers 200 at once and streams JSON progress lines; a failed pull shows up only as
   * an `{"error": ...}` line in that stream, so the whole stream is read and checked.
   */
  async pull(image: string, onProgress: (status: string) => void = () => {}): Promise<void> {
    // name@sha256:… pins a digest (its colon is not a tag's); name:tag; or a bare name, which Docker reads as :latest.
    const digest = image.indexOf('@');
    const at = image.lastIndexOf(':');
    const [fromImage, tag] = digest > 0 ? [image.slice(0, digest), image.slice(digest + 1)] : at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
    const { body } = await this.call<string>(`pulling ${image}`, { method: 'POST', path: '/images/create', query: { fromImage, tag } });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    for (const line of text.split('\n').filter((l) => l.trim())) {
      let event: { status?: string; error?: string; errorDetail?: { message?: string } };
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      if (event.error || event.errorDetail) throw new EngineError(`pulling ${image}`, 200, event.errorDetail?.message ?? event.error ?? 'unknown error');
      if (event.status && !/Downloading|Extracting|Waiting|Verifying/.test(event.status)) onProgress(event.status);
    }
  }
}

interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

/** JSON when the answer is one JSON value; a progress stream (several JSON lines) or plain text stays text. */
function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : text;
  } catch {
    return text;
  }
}

function daemonMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // Not JSON (a proxy's error page): show the start of it.
  }
  return text.trim().slice(0, 300) || 'no message';
}

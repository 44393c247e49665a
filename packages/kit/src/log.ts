/**
 * Console output shared by every script: short status lines on stderr (stdout stays free for data such as
 * decrypted files), and progress for long waits that says what is being waited on and for how long.
 */
import { UserError } from './errors.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  ok(message: string): void;
  /** Runs `work`, printing a start line, a heartbeat every `heartbeatMs` while it runs, and the elapsed time. */
  progress<T>(label: string, work: () => Promise<T>, options?: { heartbeatMs?: number }): Promise<T>;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Math.round(seconds - minutes * 60)
    .toString()
    .padStart(2, '0')}s`;
}

/**
 * A boolean option with its environment fallback for runs through Nx: the flag when given, else the variable
 * set to anything but empty, 0 or false.
 */
export function flagOn(value: string | boolean | undefined, env: string | undefined): boolean {
  return value === true || (value === undefined && !!env && env !== '0' && env !== 'false');
}

/**
 * A duration or count setting from the environment (GROUNDWORK_POLL_MS and the like): unset or empty gives the
 * default, and anything but a non-negative number is an error naming the variable (an empty value read as 0
 * would make a poll loop spin).
 */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UserError(`${name}=${text}: expected a number (0 or more)`, { exitCode: 2 });
  return value;
}

/** `dryRun`: every line says so, in the prefix (`[talos-config:apply, dry run]`). */
export function createLogger(prefix: string, stream: NodeJS.WritableStream = process.stderr, options: { dryRun?: boolean } = {}): Logger {
  const label = options.dryRun ? `${prefix}, dry run` : prefix;
  const write = (mark: string, message: string) => stream.write(`${mark} [${label}] ${message}\n`);
  return {
    info: (message) => write('·', message),
    warn: (message) => write('!', message),
    ok: (message) => write('✓', message),
    async progress(label, work, options = {}) {
      const started = performance.now();
      write('…', `${label}`);
      const timer = setInterval(() => write('…', `${label}: still waiting (${formatDuration(performance.now() - started)})`), options.heartbeatMs ?? 10_000);
      timer.unref();
      try {
        const result = await work();
        write('✓', `${label} (${formatDuration(performance.now() - started)})`);
        return result;
      } catch (error) {
        write('✗', `${label} failed after ${formatDuration(performance.now() - started)}`);
        throw error;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

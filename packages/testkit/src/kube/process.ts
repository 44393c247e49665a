import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { hasCommand } from '@groundwork/kit';
import { stopProcess } from '../services.ts';

/**
 * A long-running program of the test control plane. Its output goes to a log file (named in failures), and
 * where util-linux's setpriv is at hand the program is killed with the test process that started it, so an
 * aborted test run leaves no API server behind.
 */
export interface Program {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** The last lines it printed, for error messages. */
  tail(lines?: number): string;
  exited(): boolean;
  stop(): Promise<void>;
}

const withParentDeath = hasCommand('setpriv');

export function startProgram(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Program {
  const [cmd, ...rest] = withParentDeath ? ['setpriv', '--pdeathsig', 'KILL', '--', command, ...args] : [command, ...args];
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const log = createWriteStream(logFile);
  let recent = '';
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    recent = (recent + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  return {
    name,
    child,
    logFile,
    tail: (lines = 15) => recent.trimEnd().split('\n').slice(-lines).join('\n'),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      process.off('exit', stopOnExit);
      await stopProcess(child, 10_000);
      log.end();
    },
  };
}

/** The status code of a GET (0 when nothing answers), as a readiness probe sees it; `options` carry TLS settings. */
export function statusOf(url: string, options: RequestOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { ...options, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls `ready` until it holds; fails at once, with the program's last lines, if the program it waits for exits. */
export async function waitUntil(what: string, program: Program | undefined, timeoutMs: number, ready: () => Promise<boolean>, pollMs = 200): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await ready()) return;
    if (program?.exited()) throw new Error(`${program.name} exited while waiting for ${what} (log: ${program.logFile}):\n${program.tail()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${program ? ` (log: ${program.logFile}):\n${program.tail()}` : ''}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

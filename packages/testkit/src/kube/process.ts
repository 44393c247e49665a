import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
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

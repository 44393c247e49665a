import { spawn } from 'node:child_process';
import { chownSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, execFile, hasCommand, postgresPrograms } from '@groundwork/kit';

/**
 * Running the rendered PostgreSQL scripts on this machine, with its own PostgreSQL tools: the local drill,
 * and a restore into a database the workstation reaches. The scripts are the ConfigMap's texts, unchanged.
 */

/** PostgreSQL's programs on this machine, or what to install. */
export function postgresTools(): string {
  const bin = postgresPrograms();
  if (bin) return bin;
  throw new UserError('PostgreSQL\'s programs (initdb, pg_ctl, pg_restore, psql) are not installed here', { hint: 'apt-get install postgresql (or run the drill against the live cluster)' });
}

/**
 * PostgreSQL refuses to run as root. As root the script runs as the `postgres` user the Debian package
 * creates, and the work folder becomes its own.
 */
function asUnprivileged(work: string): string[] {
  if (process.getuid?.() !== 0) return [];
  const id = execFile('id', ['-u', 'postgres']);
  if (id.status !== 0 || !hasCommand('setpriv')) throw new UserError('running as root, and there is no postgres user to run PostgreSQL as', { hint: 'run the drill as an ordinary user' });
  const uid = Number(id.stdout.toString().trim());
  const gid = Number(execFile('id', ['-g', 'postgres']).stdout.toString().trim());
  const own = (path: string) => {
    chownSync(path, uid, gid);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) own(join(path, entry));
  };
  own(work);
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

/** Runs one of the rendered scripts in `work` with `env`; its output goes to `onLine`. */
export function runScript(script: string, text: string, work: string, env: Record<string, string>, onLine: (line: string) => void): Promise<void> {
  const file = join(work, script);
  writeFileSync(file, text, { mode: 0o755 });
  const argv = [...asUnprivileged(work), 'sh', file];
  const tools = postgresTools();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: work, env: { PATH: `${tools}:/usr/local/bin:/usr/bin:/bin`, LANG: 'C.UTF-8', ...env, DR_WORK: work }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        onLine(line);
        tail = `${tail}\n${line}`.slice(-2000);
      }
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new UserError(`${script} failed (exit ${code}):${tail}`))));
  });
}

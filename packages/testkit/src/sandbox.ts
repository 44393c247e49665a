import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { execFile, hasCommand } from '@groundwork/kit';

/**
 * bubblewrap is how tests give a program what its container gives it: a read-only root with only the pod's
 * volumes writable, at the paths the rendered manifests name. Where it is missing or the kernel refuses it
 * (unprivileged user namespaces off), the reason is reported, never skipped silently.
 */
export const SANDBOX: { ok: boolean; why: string } = (() => {
  if (!hasCommand('bwrap')) return { ok: false, why: 'bwrap is not installed (apt-get install bubblewrap)' };
  const probe = execFile('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', 'true']);
  return probe.status === 0 ? { ok: true, why: 'bubblewrap' } : { ok: false, why: `bwrap cannot run here: ${probe.stderr.toString().trim()}` };
})();

export interface Mount {
  /** The folder or file on this machine. */
  host: string;
  /** Where the container sees it. */
  path: string;
  readOnly?: boolean;
}

export interface SandboxOptions {
  mounts: Mount[];
  /** The user the container runs as (runAsUser/runAsGroup); the host's passwd gains an entry when it lacks one. */
  user?: { uid: number; gid: number; name?: string; groups?: number[] };
  /** A scratch folder for the generated passwd, group and hosts files. */
  scratch: string;
  /** Names the container resolves, as cluster DNS would (talos.default → where the test's server listens). */
  hosts?: Record<string, string>;
  /**
   * The capabilities the container may hold (lower case, without CAP_), as its securityContext leaves them; a
   * root process keeps exactly these. Unset: whatever this process has.
   */
  capabilities?: string[];
}

const SKIP = new Set(['proc', 'dev', 'sys']);

/** Whether `dir` is a strict ancestor of `path` (both absolute, normalised). */
const isAncestor = (dir: string, path: string) => path !== dir && path.startsWith(dir === '/' ? '/' : `${dir}/`);

/**
 * The host's root rebuilt read-only, entry by entry, except along the paths where volumes are mounted: those
 * folders are made fresh (empty but for the host's other entries), so no mount point is ever created on the
 * host itself.
 */
function rootArgs(mountPaths: string[], dir = '/'): string[] {
  const args: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (dir === '/' && SKIP.has(entry)) continue;
    const path = posix.join(dir, entry);
    if (mountPaths.includes(path)) continue;
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (mountPaths.some((m) => isAncestor(path, m))) {
      args.push('--dir', path, ...rootArgs(mountPaths, path));
    } else if (stat.isSymbolicLink()) {
      args.push('--symlink', readlinkSync(path), path);
    } else {
      args.push('--ro-bind', path, path);
    }
  }
  return args;
}

function withUser(scratch: string, file: 'passwd' | 'group', line: string, id: number): string {
  const host = readFileSync(`/etc/${file}`, 'utf8');
  const taken = host.split('\n').some((l) => l.split(':')[2] === String(id));
  const out = join(scratch, file);
  writeFileSync(out, taken ? host : `${host.trimEnd()}\n${line}\n`);
  return out;
}

/** The bwrap arguments (up to and including `--`) that run a command as the container would. */
export function sandboxArgs(options: SandboxOptions): string[] {
  if (!SANDBOX.ok) throw new Error(`cannot run the container sandbox: ${SANDBOX.why}`);
  const mounts = [...options.mounts].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  const paths = mounts.map((m) => posix.normalize(m.path));
  for (const mount of mounts) if (!existsSync(mount.host)) throw new Error(`sandbox mount source ${mount.host} does not exist`);
  const args = ['--die-with-parent', '--new-session', '--dev', '/dev', '--proc', '/proc', ...rootArgs(paths)];
  for (const mount of mounts) {
    // A mount inside another mount (a Secret inside an emptyDir) needs its point in the outer mount's folder.
    const outer = mounts.find((o) => o !== mount && isAncestor(o.path, mount.path));
    if (outer) mkdirSync(join(outer.host, posix.relative(outer.path, mount.path)), { recursive: true });
    // Folders on the way that the host does not have are made here, readable by every user, not by bwrap (0700).
    else {
      const missing: string[] = [];
      for (let dir = posix.dirname(mount.path); dir !== '/' && !existsSync(dir); dir = posix.dirname(dir)) missing.unshift(dir);
      for (const dir of missing) args.push('--perms', '0755', '--dir', dir);
    }
    args.push(mount.readOnly ? '--ro-bind' : '--bind', mount.host, mount.path);
  }
  if (options.user) {
    const { uid, gid, name = `user${uid}` } = options.user;
    args.push('--ro-bind', withUser(options.scratch, 'passwd', `${name}:x:${uid}:${gid}::/nonexistent:/usr/sbin/nologin`, uid), '/etc/passwd');
    args.push('--ro-bind', withUser(options.scratch, 'group', `${name}:x:${gid}:`, gid), '/etc/group');
  }
  if (options.hosts && Object.keys(options.hosts).length) {
    const file = join(options.scratch, 'hosts');
    writeFileSync(file, `${readFileSync('/etc/hosts', 'utf8').trimEnd()}\n${Object.entries(options.hosts).map(([name, ip]) => `${ip} ${name}`).join('\n')}\n`);
    args.push('--ro-bind', file, '/etc/hosts');
  }
  args.push('--');
  const bounding = options.capabilities ? [`--bounding-set=${['-all', ...options.capabilities.map((c) => `+${c}`)].join(',')}`] : [];
  if (options.user) args.push('setpriv', `--reuid=${options.user.uid}`, `--regid=${options.user.gid}`, ...(options.user.groups?.length ? [`--groups=${options.user.groups.join(',')}`] : ['--clear-groups']), ...bounding, '--');
  else if (bounding.length) args.push('setpriv', ...bounding, '--');
  return args;
}

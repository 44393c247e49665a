import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs once per vitest run, before the test workers start: they inherit TMPDIR, so os.tmpdir() and every
// child process (nx, age, gpg, promtool) write their scratch files under this run's folder.
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(previous ?? tmpdir(), 'gw-run-'));
  // Traversable (not listable) by other users: servers tests start as their own user (PostgreSQL) keep data here.
  chmodSync(root, 0o711);
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}

// Runtime input of verify for layers that check their output with system tools (promtool, amtool): whether
// each is installed, and its version. Installing or upgrading one invalidates verify's cached result.
import { spawnSync } from 'node:child_process';

for (const tool of process.argv.slice(2)) {
  const result = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  const version = result.error ? 'missing' : `${result.stdout}${result.stderr}`.split('\n')[0];
  process.stdout.write(`${tool}=${version}\n`);
}

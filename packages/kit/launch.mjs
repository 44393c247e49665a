// Shared launcher for groundwork's npm bins (plain JavaScript: it runs before TypeScript support is loaded).
// It re-runs itself on the workspace's Node 24 (the npm `node` package) when started by an older system
// Node, then registers tsx, resolved from this package, and calls the CLI module's main(argv).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const REQUIRED_MAJOR = 24;

function workspaceNode() {
  try {
    const require = createRequire(import.meta.url);
    const binary = require.resolve('node/bin/node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

export async function launch(moduleUrl) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < REQUIRED_MAJOR && !process.env.GROUNDWORK_RELAUNCHED) {
    const node = workspaceNode();
    if (node) {
      const result = spawnSync(node, process.argv.slice(1), { stdio: 'inherit', env: { ...process.env, GROUNDWORK_RELAUNCHED: '1' } });
      process.exit(result.status ?? 1);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(moduleUrl.href);
  process.exitCode = await main(process.argv.slice(2));
}

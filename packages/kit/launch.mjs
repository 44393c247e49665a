// Shared launcher for groundwork's npm bins (plain JavaScript: it runs before TypeScript support is loaded).
// It re-runs itself on the workspace's Node 24 (the npm `node` package) when started by an older system
// Node, whose own type stripping then loads the CLI module (erasable TypeScript only, as tsconfig enforces),
// and calls its main(argv).
import { spawnSync } from 'node:child_process';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const REQUIRED_MAJOR = 24;

function workspaceNode() {
  try {
    const require = nodeModule.createRequire(import.meta.url);
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
  // V8's compiled code (and the stripped TypeScript) kept on disk: about a third off every later start.
  // (A namespace import: Node 20, which only relaunches, has no such export.)
  nodeModule.enableCompileCache?.(process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../../node_modules/.cache/node-compile', import.meta.url)));
  const { main } = await import(moduleUrl.href);
  process.exitCode = await main(process.argv.slice(2));
}

#!/usr/bin/env -S npx node
import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import { pinnedToolDirs } from '../../../packages/testkit/src/programs.ts';

const HELP = `Usage: tsx tools/scripts/src/with-pinned-tools.ts COMMAND [ARGS...]

Runs COMMAND with the pinned builds of promtool, Prometheus, amtool, Alertmanager, node_exporter and
kube-state-metrics (tools/go, built by packages/testkit/src/build-programs.ts) first on PATH, so that verify's
checks use the versions the rendered images pin rather than whatever the system has. npm test runs nx this way;
when COMMAND fails, the failed tests' first lines are printed again at the end.`;

const [command, ...args] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h') {
  process.stdout.write(`${HELP}\n`);
  process.exit(command ? 0 : 2);
}
/**
 * A long run's failures scroll far out of sight (and out of the tail CI keeps): each failed test's first lines
 * are kept and printed again at the end.
 */
const RECAP_LINES = 14;
const recap: string[] = [];
let capturing = 0;
let partial = '';
function scan(text: string): void {
  const lines = (partial + text).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
    if (/^\s*FAIL\s/.test(plain) || /^\s*×\s/.test(plain)) capturing = RECAP_LINES;
    if (capturing > 0 && recap.length < 400) {
      recap.push(plain);
      capturing -= 1;
    }
  }
}

const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'pipe'], env: { ...process.env, PATH: [...pinnedToolDirs(), process.env.PATH].join(delimiter) } });
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  scan(chunk.toString());
});
child.stderr.on('data', (chunk: Buffer) => {
  process.stderr.write(chunk);
  scan(chunk.toString());
});
child.on('error', (error) => {
  process.stderr.write(`error: ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('close', (code, signal) => {
  if (code !== 0 && recap.length) process.stdout.write(`\n── failed tests, again (first ${RECAP_LINES} lines of each) ──\n${recap.join('\n')}\n`);
  process.exit(code ?? (signal ? 1 : 0));
});

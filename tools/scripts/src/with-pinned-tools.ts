#!/usr/bin/env -S npx node
import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import { pinnedToolDirs } from '../../../packages/testkit/src/programs.ts';

const HELP = `Usage: tsx tools/scripts/src/with-pinned-tools.ts COMMAND [ARGS...]

Runs COMMAND with the pinned builds of promtool, Prometheus, amtool, Alertmanager, node_exporter and
kube-state-metrics (tools/go, built by packages/testkit/src/build-programs.ts) first on PATH, so that verify's
checks use the versions the rendered images pin rather than whatever the system has. npm test runs nx this way.`;

const [command, ...args] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h') {
  process.stdout.write(`${HELP}\n`);
  process.exit(command ? 0 : 2);
}
const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, PATH: [...pinnedToolDirs(), process.env.PATH].join(delimiter) } });
child.on('error', (error) => {
  process.stderr.write(`error: ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

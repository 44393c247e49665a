import { delimiter } from 'node:path';
import { pinnedToolDirs } from '../../packages/testkit/src/programs.ts';

/**
 * Runs once per vitest run, before the test workers start: puts the pinned builds of the command-line tools
 * the code under test finds on PATH (promtool, Prometheus, amtool, Alertmanager, node_exporter,
 * kube-state-metrics) ahead of any system copy (Debian's promtool is 2.42, the clusters run 3.14), so every
 * test and every child process runs the version the rendered images pin.
 */
export default function setup(): () => void {
  const previous = process.env.PATH;
  process.env.PATH = [...pinnedToolDirs(), previous].join(delimiter);
  return () => {
    process.env.PATH = previous;
  };
}

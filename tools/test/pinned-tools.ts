import { delimiter, dirname } from 'node:path';
import { programPath } from '../../packages/testkit/src/programs.ts';

/**
 * Runs once per vitest run, before the test workers start: puts the pinned builds of the command-line tools
 * the code under test finds on PATH (promtool, prometheus, amtool, node_exporter, kube-state-metrics) ahead of
 * any system copy (Debian's promtool is 2.42, the clusters run 3.14), so every test and every child process
 * runs the version the rendered images pin. A tool not built yet is left to the PATH as it is: the tests that
 * check versions say so.
 */
const TOOLS = ['promtool', 'amtool', 'node_exporter', 'kube-state-metrics'];

export default function setup(): () => void {
  const previous = process.env.PATH;
  const dirs = TOOLS.flatMap((tool) => {
    try {
      return [dirname(programPath(tool))];
    } catch {
      return [];
    }
  });
  process.env.PATH = [...new Set(dirs), previous].join(delimiter);
  return () => {
    process.env.PATH = previous;
  };
}

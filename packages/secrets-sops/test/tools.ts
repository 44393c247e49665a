import { hasCommand } from '@groundwork/kit';

/**
 * Interop tests run against the real tools. A missing tool fails the test with the command that installs it,
 * rather than skipping it: a skipped interop test proves nothing.
 */
export function requireTool(name: string, debianPackage: string = name): string {
  if (!hasCommand(name)) {
    throw new Error(`${name} is not installed; install it with: apt-get install -y ${debianPackage} (tools/scripts/ensure-tools.ts does this for npm test)`);
  }
  return name;
}

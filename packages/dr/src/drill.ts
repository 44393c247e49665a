#!/usr/bin/env -S npx node
/**
 * `nx run dr:drill --cluster=NAME`: the restore drill of one cluster (gw-dr drill), as an Nx target that
 * runs after the layer's verify. In the cluster when its kubeconfig is at hand, else on this machine.
 */
import { UserError, reportFailure } from '@groundwork/kit';
import { main as gwDr } from './dr-cli.ts';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) return gwDr(['drill', '--help']);
  const cluster = argv.find((a) => a.startsWith('--cluster='))?.slice('--cluster='.length);
  if (!cluster || cluster === '*' || cluster.includes(',')) return reportFailure(new UserError('a drill restores one cluster\'s backup: name it with --cluster=<name>', { exitCode: 2 }));
  return gwDr(['drill', ...argv]);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env -S npx node
/**
 * gw-rebuild: destroy a cluster, recreate it from the repository, restore its newest backups and verify it, with
 * the time each phase took (docs/operations.md). Every phase is an existing groundwork command.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { UserError, createLogger, execFile, findWorkspaceRoot, runCommand } from '@groundwork/kit';
import { loadCluster, runTargets } from '@groundwork/cluster';
import { planRebuild, reportTable, runRebuild, type Step, type StepRunner } from './rebuild/rebuild.ts';

const spec = {
  usage: 'gw-rebuild --cluster=NAME --yes [--maintenance=NODE=IP,…] [--skip-restore] [--dry-run]',
  summary: 'Destroy a cluster, recreate it from Git, restore its newest backups and verify it, timing each phase.',
  details: [
    'Phases: destroy (gw-talos reset --all, or docker down), render (every layer\'s generate), nodes (apply: install',
    'from maintenance mode, bootstrap etcd; or docker up), join (every node Ready), platform (every layer\'s apply),',
    'restore (gw-dr restore postgres, when dr is on), verify (every layer, live). The first failure stops the run;',
    'its exit code is the failed command\'s. Everything the cluster needs must be in the repository and the',
    'cluster key at hand: the secrets bundle, the SOPS files and the backups are not touched by destroy.',
    '',
    'Machines that come back from the wipe at other addresses (DHCP) need --maintenance, as apply does.',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'The cluster (exactly one).' },
    yes: { type: 'boolean', description: 'Confirm: every node is wiped.' },
    maintenance: { type: 'string', valueName: 'NODE=IP,…', description: 'Where wiped machines answer in maintenance mode.' },
    'skip-restore': { type: 'boolean', description: 'Do not restore the database (a new cluster without backups yet).' },
    'dry-run': { type: 'boolean', description: 'Print the phases and their commands; change nothing.' },
  },
} as const;

/** The commands as a user runs them: gw-talos and gw-dr from node_modules/.bin, targets through gw-cluster run. */
export function commandRunner(root: string, cluster: string): StepRunner {
  return async (step: Step) => {
    if (step.tool === 'targets') return (await runTargets({ root, target: step.target, cluster, env: { ...process.env, ...step.env } })).code;
    return new Promise<number>((resolve, reject) => {
      const child = spawn(join(root, 'node_modules', '.bin', step.tool), step.args, { cwd: root, stdio: 'inherit' });
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
    });
  };
}

export function main(argv: string[], runner?: (root: string, cluster: string) => StepRunner): Promise<number> {
  return runCommand(
    spec,
    async ({ options }) => {
      if (!options.cluster || options.cluster === '*' || options.cluster.includes(',')) throw new UserError('name exactly one cluster with --cluster=<name>', { exitCode: 2 });
      const dryRun = options['dry-run'] ?? false;
      if (!dryRun && !options.yes) throw new UserError(`gw-rebuild wipes every node of ${options.cluster}: add --yes to confirm, or --dry-run to see the plan`, { exitCode: 2 });
      const root = findWorkspaceRoot();
      const cluster = loadCluster(root, options.cluster);
      const log = createLogger('gw-rebuild', process.stderr, { dryRun });
      // Recreated "from Git" means from the working tree: say so when it holds uncommitted changes.
      const dirty = execFile('git', ['status', '--porcelain', '--', `clusters/${cluster.name}`], { cwd: root });
      const changes = dirty.status === 0 ? dirty.stdout.toString().split('\n').filter(Boolean) : [];
      if (changes.length) log.warn(`clusters/${cluster.name} has uncommitted changes, which the rebuild uses: ${changes.map((l) => l.slice(3)).join(', ')}`);
      const phases = planRebuild(cluster, { ...(options.maintenance ? { maintenance: options.maintenance } : {}), skipRestore: options['skip-restore'] ?? false });
      const report = await runRebuild(phases, (runner ?? commandRunner)(root, cluster.name), log, dryRun);
      process.stderr.write(`${reportTable(report)}\n`);
      if (report.code === 0 && !dryRun) log.ok(`${cluster.name} rebuilt and verified in ${report.totalMs >= 0 ? Math.round(report.totalMs / 1000) : 0}s`);
      return report.code;
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

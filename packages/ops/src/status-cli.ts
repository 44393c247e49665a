#!/usr/bin/env -S npx node
/**
 * gw-status: one screen per cluster (nodes, etcd, each layer's workloads, backups' age, certificate expiry,
 * firing alerts), or the same as JSON; the exit code says whether the cluster is healthy.
 */
import { UserError, findWorkspaceRoot, runCommand, selectClusters } from '@groundwork/kit';
import { loadCluster } from '@groundwork/cluster';
import { collectStatus } from './status/collect.ts';
import { renderScreen } from './status/screen.ts';
import type { ClusterStatus } from './status/types.ts';

const spec = {
  usage: 'gw-status --cluster=NAME [--json]',
  summary: 'Show whether a running cluster is healthy: nodes, etcd, workloads, backups, certificates and alerts.',
  details: [
    'Reads the Talos API with the cluster\'s admin talosconfig (decrypted in memory: the cluster\'s age key must be',
    'at hand) and the Kubernetes API with clusters/<name>/rendered/kubeconfig (or GROUNDWORK_KUBECONFIG).',
    'Every call has a deadline of GROUNDWORK_TALOS_PROBE_TIMEOUT_MS (default 5000); nodes are asked in parallel.',
    'GROUNDWORK_ADDRESS_MAP sends node addresses elsewhere (a tunnel), as for every other command.',
    '',
    'Exit codes: 0 healthy (sections that cannot be checked, such as alerts without observability, show as',
    'unknown and do not fail), 1 something is unhealthy, 2 usage, 5 the Kubernetes API or every Talos node',
    'did not answer. With several clusters the worst code wins.',
    '',
    'JSON: one cluster gives one object, `*` or a comma list an array of them (fields: docs/operations.md).',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'The cluster, a comma list, or * for every cluster.' },
    json: { type: 'boolean', description: 'Print the status as JSON instead of the screen.' },
  },
} as const;

/** 5 (unreachable) outranks 1 (unhealthy) outranks 0. */
const worstExit = (codes: number[]) => codes.reduce((a, b) => Math.max(a, b), 0);

export function main(argv: string[]): Promise<number> {
  return runCommand(
    spec,
    async ({ options }) => {
      if (!options.cluster) throw new UserError('name the cluster with --cluster=<name> (or --cluster=* for every cluster)', { exitCode: 2 });
      const root = findWorkspaceRoot();
      const names = selectClusters(root, options.cluster);
      if (!names.length) throw new UserError('no clusters in this repository', { exitCode: 2 });
      const clusters = names.map((name) => loadCluster(root, name));
      // Clusters are independent: asking them together keeps `*` as quick as the slowest one.
      const statuses: ClusterStatus[] = await Promise.all(clusters.map((cluster) => collectStatus({ root, cluster })));
      const single = options.cluster !== '*' && names.length === 1;
      if (options.json) process.stdout.write(`${JSON.stringify(single ? statuses[0] : statuses, null, 2)}\n`);
      else process.stdout.write(statuses.map(renderScreen).join('\n'));
      const code = worstExit(statuses.map((s) => s.exitCode));
      // A call that ran past its deadline may still hold a socket open; the answer is out, so do not wait for it
      // (unref'd: a process with nothing left exits at once). Not inside a test runner, which owns its process.
      if (!process.env.VITEST) setTimeout(() => process.exit(code), 500).unref();
      return code;
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

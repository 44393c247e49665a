#!/usr/bin/env -S npx node
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ProblemList, UserError, findWorkspaceRoot, runCommand, selectClusters, writeFileAtomic } from '@groundwork/kit';
import { loadCluster } from './load.ts';
import { APP_SCHEMA_FILE, appJsonSchema, clusterJsonSchema, SCHEMA_FILE } from './json-schema.ts';
import { apiEndpoint, controlPlanes, workers } from './derive.ts';
import { runTargets } from './run-targets.ts';

const spec = {
  usage: 'gw-cluster <validate|list|schema|run TARGET> [--cluster=NAME] [--write|--check] [--dry-run] [--live]',
  summary: 'Validate cluster files, manage the cluster-file JSON Schema, and run a target over every layer with honest exit codes.',
  details: [
    'Commands:',
    '  validate   check clusters/<name>/cluster.yaml (all clusters unless --cluster is given)',
    '  list       print each cluster with its nodes and API endpoint',
    '  schema     print the cluster file JSON Schema; --write updates packages/cluster/cluster.schema.json and app.schema.json, --check fails if either is stale',
    '  run TARGET nx run-many -t TARGET (generate, verify or apply) for one cluster, exiting with the code the failing',
    '             layer gave (1 problems, 2 usage, 3 another cluster\'s API server, 4 conflict, 5 unreachable, 6 refused);',
    '             nx alone exits 1 for any failure and 130 when a failure leaves dependent tasks unrun',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'Cluster name, a comma list, or * for all.' },
    write: { type: 'boolean', description: 'schema: write the committed schema file.' },
    check: { type: 'boolean', description: 'schema: fail when the committed schema file is out of date.' },
    'dry-run': { type: 'boolean', description: 'run apply: show what would change (GROUNDWORK_DRY_RUN=1).' },
    live: { type: 'boolean', description: 'run verify: check the running cluster too (GROUNDWORK_LIVE=1).' },
  },
  positionals: { name: 'COMMAND [TARGET]', description: 'validate, list, schema or run', min: 1, max: 2 },
} as const;

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, async ({ options, positionals }) => {
    const command = positionals[0];
    if (command === 'run') {
      const target = positionals[1];
      if (!target || !['generate', 'verify', 'apply'].includes(target)) throw new UserError('run needs a target: generate, verify or apply', { exitCode: 2 });
      if (!options.cluster) throw new UserError('name the cluster with --cluster=<name>', { exitCode: 2 });
      const env = { ...process.env, ...(options['dry-run'] ? { GROUNDWORK_DRY_RUN: '1' } : {}), ...(options.live ? { GROUNDWORK_LIVE: '1' } : {}) };
      const run = await runTargets({ root: findWorkspaceRoot(), target, cluster: options.cluster, env });
      process.stderr.write(`${run.code === 0 ? '✓' : 'error:'} ${target} of ${options.cluster}: ${run.summary}\n`);
      return run.code;
    }
    if (command === 'schema') {
      const schemas: Array<[string, string]> = [
        [SCHEMA_FILE, clusterJsonSchema()],
        [APP_SCHEMA_FILE, appJsonSchema()],
      ];
      for (const [file, text] of schemas) {
        if (options.write) writeFileAtomic(file, text);
        else if (options.check) {
          if (readFileSync(file, 'utf8') !== text) throw new UserError(`packages/cluster/${basename(file)} is out of date`, { hint: 'run: npx gw-cluster schema --write' });
        }
      }
      if (!options.write && !options.check) process.stdout.write(schemas[0]![1]);
      return 0;
    }
    const root = findWorkspaceRoot();
    const names = selectClusters(root, options.cluster);
    if (command === 'validate') {
      const failures: string[] = [];
      for (const name of names) {
        try {
          const loaded = loadCluster(root, name);
          for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
          process.stdout.write(`ok: clusters/${name}/cluster.yaml\n`);
        } catch (error) {
          if (error instanceof ProblemList) failures.push(...error.problems);
          else throw error;
        }
      }
      if (failures.length) throw new ProblemList('invalid cluster files:', failures, { exitCode: 2 });
      return 0;
    }
    if (command === 'list') {
      for (const name of names) {
        const { config } = loadCluster(root, name);
        const cps = controlPlanes(config).length;
        const ws = workers(config).length;
        process.stdout.write(`${name}\t${cps} control plane(s), ${ws} worker(s)\t${apiEndpoint(config)}\tTalos ${config.versions.talos}\n`);
      }
      return 0;
    }
    throw new UserError(`unknown command "${command}"`, { exitCode: 2, hint: 'use validate, list or schema' });
  }, argv);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

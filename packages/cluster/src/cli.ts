#!/usr/bin/env -S npx tsx
import { readFileSync } from 'node:fs';
import { ProblemList, UserError, findWorkspaceRoot, runCommand, selectClusters, writeFileAtomic } from '@groundwork/kit';
import { loadCluster } from './load.ts';
import { clusterJsonSchema, SCHEMA_FILE } from './json-schema.ts';
import { apiEndpoint, controlPlanes, workers } from './derive.ts';

const spec = {
  usage: 'gw-cluster <validate|list|schema> [--cluster=NAME] [--write|--check]',
  summary: 'Validate cluster files and manage the cluster-file JSON Schema.',
  details: [
    'Commands:',
    '  validate   check clusters/<name>/cluster.yaml (all clusters unless --cluster is given)',
    '  list       print each cluster with its nodes and API endpoint',
    '  schema     print the JSON Schema; --write updates packages/cluster/cluster.schema.json, --check fails if it is stale',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'Cluster name, a comma list, or * for all.' },
    write: { type: 'boolean', description: 'schema: write the committed schema file.' },
    check: { type: 'boolean', description: 'schema: fail when the committed schema file is out of date.' },
  },
  positionals: { name: 'COMMAND', description: 'validate, list or schema', min: 1, max: 1 },
} as const;

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, ({ options, positionals }) => {
    const command = positionals[0];
    if (command === 'schema') {
      const text = clusterJsonSchema();
      if (options.write) writeFileAtomic(SCHEMA_FILE, text);
      else if (options.check) {
        if (readFileSync(SCHEMA_FILE, 'utf8') !== text) {
          throw new UserError('packages/cluster/cluster.schema.json is out of date', { hint: 'run: npx gw-cluster schema --write' });
        }
      } else process.stdout.write(text);
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

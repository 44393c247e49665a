import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ProblemList, UserError, clusterDir, workspaceRelative } from '@groundwork/kit';
import { ClusterSchema, type Cluster } from './schema.ts';
import { crossValidate, type Finding } from './validate.ts';
import { findingsFromZod } from './issues.ts';
import { loadApps } from './apps-load.ts';
import { readYamlText } from './yaml-text.ts';

export interface LoadedCluster {
  name: string;
  /** Absolute path of clusters/<name>/. */
  dir: string;
  /** Absolute path of the cluster file. */
  file: string;
  config: Cluster;
  /** Messages that do not stop anything, already prefixed with the file and field. */
  warnings: string[];
}

export interface ValidationOutcome {
  config?: Cluster;
  errors: string[];
  warnings: string[];
}

/**
 * Validates cluster-file text. Every message starts with `label` (the file as the user knows it) and the field
 * path, so it can be printed as is: `clusters/pi/cluster.yaml: nodes[2].ip: 10.0.9.4 is outside ...`.
 */
export function validateClusterText(text: string, label: string, folderName?: string): ValidationOutcome {
  const prefix = (f: Finding) => `${label}: ${f.path}: ${f.message}`;
  const read = readYamlText(text, label, '; a cluster file needs no aliases, write the values out');
  if (read.errors.length) return { errors: read.errors, warnings: [] };
  const data = read.data;
  const parsed = ClusterSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) return { errors: findingsFromZod(parsed.error, ClusterSchema).map(prefix), warnings: [] };
  const { errors, warnings } = crossValidate(parsed.data, folderName);
  const result: ValidationOutcome = { errors: errors.map(prefix), warnings: warnings.map(prefix) };
  if (errors.length === 0) result.config = parsed.data;
  return result;
}

/** Loads and validates a cluster file; any error stops with every problem listed at once. */
export function loadClusterFile(file: string, root?: string): LoadedCluster {
  if (!existsSync(file)) throw new UserError(`${file}: no such cluster file`);
  const label = root ? workspaceRelative(root, file) : file;
  const folder = basename(dirname(file));
  const outcome = validateClusterText(readFileSync(file, 'utf8'), label, folder);
  if (outcome.errors.length > 0 || !outcome.config) {
    throw new ProblemList(`${label} is not a valid cluster file:`, outcome.errors, { exitCode: 2 });
  }
  // The apps beside the cluster file are part of it: every layer sees them in config.apps.
  const apps = loadApps(dirname(file), dirname(label), outcome.config);
  if (apps.errors.length) throw new ProblemList(`${dirname(label)}/apps/ has invalid apps:`, apps.errors, { exitCode: 2 });
  const config = { ...outcome.config, apps: apps.apps };
  return { name: config.name, dir: dirname(file), file, config, warnings: outcome.warnings };
}

export function loadCluster(root: string, name: string): LoadedCluster {
  return loadClusterFile(join(clusterDir(root, name), 'cluster.yaml'), root);
}

import { ALL_CLUSTERS, ProblemList, UserError, createLogger, findWorkspaceRoot, flagOn, formatDuration, runCommand, selectClusters, type OptionSpec } from '@groundwork/kit';
import { loadCluster, type LoadedCluster } from './load.ts';
import { recordExit } from './run-targets.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { codeStamp, currentRendering, renderStamp, writeRenderStamp } from './render-stamp.ts';

export { EXIT_CODES };

export type LayerAction = 'generate' | 'verify' | 'apply' | 'summary';

export interface ClusterOutcome {
  /** Anything wrong; the task fails when one cluster has a problem, after all clusters were checked. */
  problems: string[];
  /** Informational lines (e.g. what could not be checked and why). */
  notes?: string[];
  /** One line saying what was done. */
  summary?: string;
  /** With problems: the exit code that says what kind of failure it was (EXIT_CODES). */
  exitCode?: number;
}


export interface LayerScript {
  layer: string;
  action: LayerAction;
  /** What this target does, for --help. */
  description: string;
  run: (context: { root: string; cluster: LoadedCluster; options: Record<string, string | boolean | undefined> }) => Promise<ClusterOutcome>;
  /** Options besides --cluster (e.g. apply's --dry-run); the values reach `run`. */
  options?: Record<string, OptionSpec>;
  /** Text for --help after the options. */
  details?: string;
  /** Checks that concern the repository rather than one cluster; run once, after the clusters. */
  repository?: (root: string) => Promise<ClusterOutcome>;
}

/**
 * The shared shape of every layer's generate/verify/apply script: `--cluster=<name>` (a comma list, or `*`
 * for all, the default), one result line per cluster, every problem listed, and apply limited to one
 * named cluster so that nothing is changed on clusters by accident.
 */
export function runLayerScript(script: LayerScript, argv: string[] = process.argv.slice(2)): Promise<number> {
  // gw-cluster run reads each layer's own exit code from this report (Nx folds them into 1, or 130).
  return runLayerCommand(script, argv).then((code) => {
    recordExit(`${script.layer}:${script.action}`, code);
    return code;
  });
}

function runLayerCommand(script: LayerScript, argv: string[]): Promise<number> {
  let log = createLogger(`${script.layer}:${script.action}`);
  return runCommand(
    {
      usage: `tsx packages/${script.layer}/src/${script.action}.ts --cluster=NAME   (or: npx nx run ${script.layer}:${script.action} --cluster=NAME)`,
      summary: `${script.layer} ${script.action}: ${script.description}`,
      ...(script.details ? { details: script.details } : {}),
      options: {
        cluster: {
          type: 'string',
          valueName: 'NAME',
          default: ALL_CLUSTERS,
          description: script.action === 'apply' ? 'The cluster to apply (exactly one).' : 'Cluster name, a comma list, or * for every cluster.',
        },
        ...script.options,
      } as Record<string, OptionSpec> & { cluster: OptionSpec & { type: 'string'; default: string } },
    },
    async ({ options }) => {
      // Every line of a dry run says so (the flag, or GROUNDWORK_DRY_RUN through Nx).
      const dry = script.action === 'apply' && flagOn((options as Record<string, string | boolean | undefined>)['dry-run'], process.env.GROUNDWORK_DRY_RUN);
      if (dry) log = createLogger(`${script.layer}:${script.action}`, process.stderr, { dryRun: true });
      const root = findWorkspaceRoot();
      if (script.action === 'apply' && (options.cluster === ALL_CLUSTERS || options.cluster.includes(','))) {
        throw new UserError('apply changes a live cluster: name exactly one with --cluster=<name>', { exitCode: 2 });
      }
      const names = selectClusters(root, options.cluster);
      if (names.length === 0) {
        log.warn('no clusters under clusters/ (add clusters/<name>/cluster.yaml)');
        return 0;
      }
      const failures: string[] = [];
      let exitCode: number | undefined;
      const code = script.action === 'generate' ? codeStamp(root) : '';
      for (const name of names) {
        const started = performance.now();
        let cluster: LoadedCluster;
        try {
          cluster = loadCluster(root, name);
        } catch (error) {
          if (error instanceof ProblemList) {
            failures.push(...error.problems);
            continue;
          }
          throw error;
        }
        for (const warning of cluster.warnings) log.warn(warning);
        // generate renders only what changed since its last rendering of this cluster (render-stamp.ts).
        const stamp = script.action === 'generate' ? renderStamp(root, name, code) : undefined;
        const kept = stamp && !flagOn(undefined, process.env.GROUNDWORK_RENDER_ALL) ? currentRendering(root, name, script.layer, stamp) : undefined;
        if (kept) {
          for (const note of kept.notes) log.info(`${name}: ${note}`);
          log.ok(`${name}: ${kept.summary ?? 'rendered'}; kept: cluster files, code and settings unchanged since (${formatDuration(performance.now() - started)})`);
          continue;
        }
        const outcome = await script.run({ root, cluster, options: options as Record<string, string | boolean | undefined> });
        if (stamp && !outcome.problems.length) writeRenderStamp(root, name, script.layer, { stamp, notes: outcome.notes ?? [], ...(outcome.summary ? { summary: outcome.summary } : {}) });
        for (const note of outcome.notes ?? []) log.info(`${name}: ${note}`);
        if (outcome.problems.length) {
          failures.push(...outcome.problems.map((p) => `${name}: ${p}`));
          exitCode ??= outcome.exitCode;
          log.warn(`${name}: ${outcome.problems.length} problem${outcome.problems.length === 1 ? '' : 's'}`);
        } else {
          log.ok(`${name}: ${outcome.summary ?? 'ok'} (${formatDuration(performance.now() - started)})`);
        }
      }
      if (script.repository) {
        const outcome = await script.repository(root);
        for (const note of outcome.notes ?? []) log.info(`repository: ${note}`);
        failures.push(...outcome.problems.map((p) => `repository: ${p}`));
        if (!outcome.problems.length && outcome.summary) log.ok(`repository: ${outcome.summary}`);
      }
      if (failures.length) throw new ProblemList(`${script.layer} ${script.action} failed:`, failures, { exitCode: exitCode ?? EXIT_CODES.problems });
      return 0;
    },
    argv,
  );
}

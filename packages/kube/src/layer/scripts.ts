import { UserError, flagOn } from '@groundwork/kit';
import { runLayerScript, type LayerAction } from '@groundwork/cluster';
import type { KubeLayer, SecretSource } from './definition.ts';
import { applyKubeLayer, generateKubeLayer, verifyKubeLayer, type KubeApplyFlags } from './run.ts';

/** `90s`, `10m`, `1h` (or plain seconds) in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UserError(`${what}: "${text}" is not a duration such as 90s, 10m or 1h`, { exitCode: 2 });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}


/** The flags every apply that uses the engine takes, with environment fallbacks for runs through Nx. */
export const APPLY_OPTIONS = {
  'dry-run': { type: 'boolean', description: 'Server-side dry run: print a diff of live against desired (Secret values masked), change nothing. Env: GROUNDWORK_DRY_RUN=1.' },
  'force-conflicts': { type: 'boolean', description: 'Take over fields another field manager owns. Env: GROUNDWORK_FORCE_CONFLICTS=1.' },
  'allow-data-loss': { type: 'boolean', description: 'Also prune PersistentVolumeClaims and namespaces that hold them. Env: GROUNDWORK_ALLOW_DATA_LOSS=1.' },
  timeout: { type: 'string', valueName: 'DURATION', description: 'How long to wait for rollouts and CRDs (default 10m). Env: GROUNDWORK_APPLY_TIMEOUT.' },
} as const;

export const APPLY_DETAILS = 'Through Nx, pass the flags as environment variables: GROUNDWORK_DRY_RUN=1 npx nx run-many -t apply --cluster=NAME';

export function applyFlags(options: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): KubeApplyFlags {
  return {
    dryRun: flagOn(options['dry-run'], env.GROUNDWORK_DRY_RUN),
    forceConflicts: flagOn(options['force-conflicts'], env.GROUNDWORK_FORCE_CONFLICTS),
    allowDataLoss: flagOn(options['allow-data-loss'], env.GROUNDWORK_ALLOW_DATA_LOSS),
    timeoutMs: parseDuration((options.timeout as string | undefined) ?? env.GROUNDWORK_APPLY_TIMEOUT ?? '10m', '--timeout'),
    pollMs: Number(env.GROUNDWORK_POLL_MS ?? 2_000),
  };
}

const DESCRIPTIONS: Record<Exclude<LayerAction, 'summary'>, string> = {
  generate: 'render the layer\'s Kubernetes objects (one file per component), its encrypted Secrets and the footprint and resilience reports.',
  verify: 'schema and policy checks of the rendered objects, the footprint and resilience summaries; the running cluster too with GROUNDWORK_LIVE=1.',
  apply: 'server-side apply of the rendered objects in dependency order, Secrets decrypted in memory, rollouts awaited, what is no longer rendered pruned.',
};

/** The generate/verify/apply entry point of a Kubernetes layer. */
export function kubeLayerMain(action: Exclude<LayerAction, 'summary'>, layer: KubeLayer, secrets: SecretSource): (argv: string[]) => Promise<number> {
  return (argv) =>
    runLayerScript(
      {
        layer: layer.name,
        action,
        description: DESCRIPTIONS[action],
        ...(action === 'apply' ? { options: APPLY_OPTIONS, details: APPLY_DETAILS } : {}),
        run: async ({ root, cluster, options }) => {
          if (action === 'generate') return generateKubeLayer(root, cluster, layer, secrets);
          if (action === 'verify') return verifyKubeLayer(root, cluster, layer, secrets);
          return applyKubeLayer(root, cluster, layer, secrets, applyFlags(options));
        },
      },
      argv,
    );
}

import type { TargetConfiguration } from '@nx/devkit';

type InputDefinition = Exclude<NonNullable<TargetConfiguration['inputs']>[number], string>;

/** Per-layer additions a package may declare under `groundwork` in its package.json. */
export interface LayerSettings {
  /** Extra inputs for one target, e.g. a repository-wide scan in verify: { "verify": ["{workspaceRoot}/**\/*"] }. */
  inputs?: Partial<Record<'generate' | 'verify' | 'apply', string[]>>;
  /** System tools verify runs on the rendered output (e.g. promtool): their presence and version are part of its cache key. */
  tools?: string[];
  /**
   * Further commands of the layer, by name, each a script `src/<name>.ts` taking --cluster (e.g. dr's
   * drill): never cached (they act on the live cluster or its backups), after the layer's verify.
   */
  commands?: Record<string, string>;
}

/** `*` (the default) renders every cluster; `--cluster=<name>` one of them. */
export const ALL_CLUSTERS = '*';

/**
 * What a layer's tasks read besides its own code and its dependencies' code: the cluster folders
 * (rendered/ is git-ignored, so Nx leaves it out) and the SOPS creation rules.
 */
const CLUSTER_INPUTS: InputDefinition[] = [{ fileset: '{workspaceRoot}/clusters/**/*' }, { fileset: '{workspaceRoot}/.sops.yaml' }];

/** Identities decide whether verify can check MACs, so they are part of its cache key (hashed, never stored). */
const IDENTITY_INPUTS: InputDefinition[] = [{ env: 'SOPS_AGE_KEY_FILE' }, { env: 'SOPS_AGE_KEY' }, { env: 'SOPS_AGE_KEY_CMD' }];

/** verify is cached only when it is static: with GROUNDWORK_LIVE set this input changes on every run. */
const LIVE_INPUT: InputDefinition = { runtime: 'node tools/layer-plugin/live-nonce.mjs' };

function toolInputs(tools: string[] | undefined): InputDefinition[] {
  return tools?.length ? [{ runtime: `node tools/layer-plugin/tool-versions.mjs ${tools.join(' ')}` }] : [];
}

function command(root: string, script: string): string {
  // Node 24 runs the TypeScript itself (type stripping; the code is erasable-syntax only, which tsc checks):
  // 0.3-0.7 s less per task than tsx's transform (docs/performance.md). Quoted so that the default `*` reaches
  // the script instead of being expanded by the shell.
  return `node ${root}/src/${script}.ts '--cluster={args.cluster}'`;
}

/**
 * What every script task runs with: Node's compile cache (V8 code and stripped TypeScript on disk), about a
 * third off each later start; an absolute path, so programs a task starts elsewhere make no caches there.
 */
function scriptOptions(root: string, script: string): { command: string; env: Record<string, string> } {
  return { command: command(root, script), env: { NODE_COMPILE_CACHE: '{workspaceRoot}/node_modules/.cache/node-compile' } };
}

function inputs(base: Array<string | InputDefinition>, extra: string[] | undefined): Array<string | InputDefinition> {
  return [...base, ...(extra ?? []).map((fileset) => ({ fileset }))];
}

function commandTargets(root: string, commands: Record<string, string> | undefined, options: Record<string, unknown>): Record<string, TargetConfiguration> {
  return Object.fromEntries(
    Object.entries(commands ?? {}).map(([name, description]) => [
      name,
      {
        executor: 'nx:run-commands',
        options: { ...options, ...scriptOptions(root, name) },
        cache: false,
        dependsOn: [{ target: 'verify', params: 'forward' }],
        metadata: { description: `${description} (--cluster=<name>)` },
      },
    ]),
  );
}

export function layerTargets(root: string, settings: LayerSettings = {}): Record<string, TargetConfiguration> {
  const base: Array<string | InputDefinition> = ['production', '^production', ...CLUSTER_INPUTS];
  const options = { cluster: ALL_CLUSTERS, forwardAllArgs: false };
  return {
    generate: {
      executor: 'nx:run-commands',
      options: { ...options, ...scriptOptions(root, 'generate') },
      cache: true,
      // A layer renders from the cluster file and its own code only (no layer reads another's rendered output
      // while generating), so the layers render in parallel; verify, which does read them, waits for theirs.
      dependsOn: [],
      inputs: inputs(base, settings.inputs?.generate),
      outputs: ['{workspaceRoot}/clusters/{options.cluster}/rendered/{projectName}'],
      metadata: { description: 'Render what this layer owns under clusters/<name>/rendered/<layer>/ (--cluster=<name>, default all).' },
    },
    verify: {
      executor: 'nx:run-commands',
      options: { ...options, ...scriptOptions(root, 'verify') },
      cache: true,
      dependsOn: [
        { target: 'generate', params: 'forward' },
        { target: 'verify', dependencies: true, params: 'forward' },
      ],
      inputs: inputs([...base, ...IDENTITY_INPUTS, LIVE_INPUT, ...toolInputs(settings.tools)], settings.inputs?.verify),
      outputs: [],
      metadata: { description: 'Static checks of the rendered output; live checks too when GROUNDWORK_LIVE=1.' },
    },
    ...commandTargets(root, settings.commands, options),
    apply: {
      executor: 'nx:run-commands',
      options: { ...options, ...scriptOptions(root, 'apply') },
      cache: false,
      parallelism: false,
      dependsOn: [
        { target: 'verify', params: 'forward' },
        { target: 'apply', dependencies: true, params: 'forward' },
      ],
      inputs: inputs([...base, ...IDENTITY_INPUTS], settings.inputs?.apply),
      metadata: { description: 'Bring the live cluster to the rendered state (needs --cluster=<name>).' },
    },
  };
}

/**
 * The cluster-wide reports, after every layer's generate (`src/summary.ts` of the package that declares
 * `"summary": true`): cheap, and reading what the layers rendered, which Nx does not hash, so never cached.
 */
export function summaryTarget(root: string): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    options: { cluster: ALL_CLUSTERS, forwardAllArgs: false, ...scriptOptions(root, 'summary') },
    cache: false,
    dependsOn: [{ target: 'generate', projects: 'tag:type:layer', params: 'forward' }],
    metadata: { description: 'Write clusters/<name>/rendered/footprint.md over every rendered layer (--cluster=<name>, default all).' },
  };
}

/** Type-checks the package's sources and tests; there is no build step, so nothing is emitted. */
export function typecheckTarget(root: string): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    options: { command: `tsc -p ${root}/tsconfig.json` },
    cache: true,
    inputs: ['default', '^production', { externalDependencies: ['typescript'] }],
    outputs: [],
    metadata: { description: 'Type-check with tsc (noEmit).' },
  };
}

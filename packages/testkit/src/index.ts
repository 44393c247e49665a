export { scratchWorkspace, scratchDir } from './workspace.ts';
export type { ScratchWorkspace } from './workspace.ts';
export { runIn, isolatedEnv } from './run.ts';
export type { RunResult } from './run.ts';
export { exampleCluster, exampleVariant, unclaimedNamespaces } from './clusters.ts';

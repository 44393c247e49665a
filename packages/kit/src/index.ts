export { UserError, ProblemList, isUserError } from './errors.ts';
export { runCommand, parseCommand, renderHelp, reportFailure, assertSupportedNode } from './cli.ts';
export type { CommandSpec, OptionSpec, Parsed, ParsedOptions } from './cli.ts';
export { writeFileAtomic, replaceDirectoryAtomic, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE } from './fs.ts';
export type { OutputFile } from './fs.ts';
export {
  findWorkspaceRoot,
  clustersDir,
  clusterDir,
  renderedDir,
  kubeconfigPath,
  listClusters,
  selectClusters,
  workspaceRelative,
  ALL_CLUSTERS,
} from './workspace.ts';
export { createLogger, envNumber, flagOn, formatDuration } from './log.ts';
export type { Logger } from './log.ts';
export { execFile, hasCommand, postgresPrograms } from './exec.ts';
export type { ExecResult } from './exec.ts';
export { addressResolver, parseAddressMap } from './address.ts';
export type { Address } from './address.ts';

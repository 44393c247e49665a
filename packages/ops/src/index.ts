/** @groundwork/ops: day-2 commands on a running cluster (gw-status), and their data for other tools. */
export { collectStatus, probeTimeoutMs } from './status/collect.ts';
export { renderScreen } from './status/screen.ts';
export type * from './status/types.ts';

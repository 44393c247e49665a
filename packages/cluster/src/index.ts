export { ClusterSchema, Node, Network, Features, Sops, Taint, DiskSelector, LocalStorageDisk, Receiver, Alerting, platforms } from './schema.ts';
export type { Cluster, ClusterInput, ClusterNode, Platform } from './schema.ts';
export { crossValidate, formatPath } from './validate.ts';
export { CLAIMED_NAMESPACES, kubeletMaySetLabel } from './limits.ts';
export type { Finding, CrossFieldResult } from './validate.ts';
export { AppSchema, appHost, appProblems } from './apps.ts';
export type { AppSpec, AppInput } from './apps.ts';
export { loadApps } from './apps-load.ts';
export { loadCluster, loadClusterFile, validateClusterText } from './load.ts';
export type { LoadedCluster, ValidationOutcome } from './load.ts';
export {
  apiEndpoint,
  controlPlanes,
  workers,
  nameservers,
  nodeArch,
  nodeInstallDisk,
  nodeLink,
  talosContract,
  talosVersion,
  kubernetesVersion,
  n8nHost,
  grafanaHost,
  kubeconfigServer,
  talosLogEndpoint,
  TALOS_LOG_PORT,
  loadBalancerPool,
  nodeCapacity,
  nodeLabels,
  nodeTaints,
  durationHours,
} from './derive.ts';
export { BACKUP_KINDS, BACKUP_JOBS, N8N_DATABASE_CLIENT_LABELS, backupPlan, appDatabaseKind, appDatabaseJob, appVolumeKind, appVolumeJob } from './backups.ts';
export type { BackupKind, BackupPlan, AppDatabaseKind, AppVolumeKind } from './backups.ts';
export { parseCron, cronProblem, runsBetween, previousRun, longestGapSeconds, allowedAgeSeconds } from './cron.ts';
export { supportedTalosLines, talosLineFor, parseVersion, compareVersions } from './versions.ts';
export type { TalosLine } from './versions.ts';
export { EXAMPLE_KEY_HEADER, isExampleKeyText, clusterKeyFile, clusterUsesExampleKeyFile } from './example-key.ts';
export { clusterJsonSchema, appJsonSchema, SCHEMA_FILE, APP_SCHEMA_FILE } from './json-schema.ts';
export { USER_VOLUME_MOUNT_POINT, localStorageVolumeName } from './local-storage.ts';
export * as ipv4 from './ipv4.ts';
export { runLayerScript, EXIT_CODES } from './layer-script.ts';
export { recordExit, runTargets, summarize } from './run-targets.ts';
export type { TargetRun } from './run-targets.ts';
export type { LayerScript, LayerAction, ClusterOutcome } from './layer-script.ts';

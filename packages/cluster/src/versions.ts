/**
 * Talos release lines groundwork generates configuration for, with the Kubernetes range each line
 * supports (from Talos's compatibility tables, pkg/machinery/compatibility/talos113). Adding a line here
 * is the first step of supporting it; talos-config then needs the matching contract.
 */
export interface TalosLine {
  /** The machine-config contract, e.g. v1.13. */
  contract: string;
  kubernetesMin: string;
  kubernetesMax: string;
}

export const supportedTalosLines: readonly TalosLine[] = [{ contract: 'v1.13', kubernetesMin: '1.31.0', kubernetesMax: '1.36.99' }];

export type Version = [number, number, number];

export function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function talosLineFor(talosVersion: string): TalosLine | undefined {
  const v = parseVersion(talosVersion);
  if (!v) return undefined;
  return supportedTalosLines.find((line) => line.contract === `v${v[0]}.${v[1]}`);
}

/** Talos versions are written with a leading v (v1.13.9), Kubernetes versions without (1.36.3). */
export function normalizeTalosVersion(text: string): string {
  return text.startsWith('v') ? text : `v${text}`;
}

export function normalizeKubernetesVersion(text: string): string {
  return text.startsWith('v') ? text.slice(1) : text;
}

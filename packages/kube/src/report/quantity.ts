/** Kubernetes resource quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/). */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The value of a quantity in base units (cores for CPU, bytes for memory). */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const match = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a Kubernetes quantity`);
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? '';
  return number * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

export function formatCpu(cores: number): string {
  if (cores === 0) return '0';
  return cores < 1 ? `${Math.round(cores * 1000)}m` : `${Number(cores.toFixed(2))}`;
}

export function formatMemory(bytes: number): string {
  if (bytes === 0) return '0';
  const gib = bytes / 2 ** 30;
  if (Math.abs(gib) >= 1) return `${Number(gib.toFixed(2))}Gi`;
  return `${Math.round(bytes / 2 ** 20)}Mi`;
}

import { Document, parse } from 'yaml';
import { controlPlanes, type Cluster } from '@groundwork/cluster';
import type { PemPair } from './bundle.ts';

/**
 * talosconfig (pkg/machinery/client/config): one context named after the cluster. Endpoints are the control
 * planes' own addresses, never the VIP (it only answers once etcd runs). Certificates as base64 of PEM.
 */
export interface TalosContext {
  endpoints: string[];
  nodes?: string[];
  ca: string;
  crt: string;
  key: string;
}

export interface TalosConfig {
  context: string;
  contexts: Record<string, TalosContext>;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

export function buildTalosconfig(cluster: Cluster, caCertPem: string, client: PemPair): TalosConfig {
  const endpoints = controlPlanes(cluster).map((n) => n.ip);
  return {
    context: cluster.name,
    contexts: { [cluster.name]: { endpoints, nodes: endpoints.slice(0, 1), ca: b64(caCertPem), crt: b64(client.crt), key: b64(client.key) } },
  };
}

export function talosconfigToYaml(config: TalosConfig): string {
  return new Document(config).toString({ indent: 4, lineWidth: 0 });
}

export function parseTalosconfig(text: string): { name: string; context: TalosContext; ca: string; crt: string; key: string } {
  const raw = parse(text) as TalosConfig;
  const context = raw?.contexts?.[raw.context];
  if (!context) throw new Error(`talosconfig: context "${String(raw?.context)}" is missing`);
  const pem = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  return { name: raw.context, context, ca: pem(context.ca), crt: pem(context.crt), key: pem(context.key) };
}

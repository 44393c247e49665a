import { N8N_DATABASE_CLIENT_LABELS, type LoadedCluster } from '@groundwork/cluster';
import { isolatedNamespace, networkPolicy, peers, tcp, type PolicyRule } from '@groundwork/kube';
import { INGRESS_PODS, TRAEFIK_NAMESPACE } from '@groundwork/platform-core';
import { NAMESPACE, PORTS } from '../names.ts';

/** Every n8n process (main, workers, webhook processors). */
export const n8nPods = () => peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'n8n' });

/** The dr layer's pods that dump, export and restore the database, when dr is on (in its namespace, by label). */
export function backupClients(cluster: LoadedCluster) {
  const { dr } = cluster.config.features;
  return dr.enabled ? [peers.pods(dr.namespace, { ...N8N_DATABASE_CLIENT_LABELS })] : [];
}

/** Where workflows may send requests: the internet on the allowed ports, and the private networks listed. */
function workflowEgress(cluster: LoadedCluster): PolicyRule[] {
  const { egress } = cluster.config.features.n8n;
  const ports = tcp(...egress.ports);
  const rules: PolicyRule[] = [];
  if (egress.internet) rules.push({ peers: [peers.internet()], ports });
  if (egress.cidrs.length) rules.push({ peers: egress.cidrs.map((cidr) => peers.cidr(cidr)), ports });
  return rules;
}

/**
 * The namespace (restricted, default-deny, DNS) and what the n8n processes may reach: PostgreSQL, Valkey and
 * what workflows call. Traefik brings in the public traffic, Prometheus scrapes /metrics, and the nodes
 * reach port 5678 for the API server's proxy (live verify).
 */
export function network(cluster: LoadedCluster): object[] {
  const { nodeCidr } = cluster.config.network;
  const scrapers = cluster.config.features.observability.enabled ? [peers.pods('observability', { 'app.kubernetes.io/name': 'prometheus' })] : [];
  return [
    ...isolatedNamespace(NAMESPACE, 'restricted'),
    networkPolicy(NAMESPACE, 'n8n', {
      pods: { 'app.kubernetes.io/name': 'n8n' },
      ingress: [
        {
          peers: [peers.pods(TRAEFIK_NAMESPACE, INGRESS_PODS), ...scrapers, peers.cidr(nodeCidr)],
          ports: tcp(PORTS.n8n),
        },
      ],
      egress: [
        { peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'postgres' })], ports: tcp(PORTS.postgres) },
        { peers: [peers.pods(NAMESPACE, { 'app.kubernetes.io/name': 'valkey' })], ports: tcp(PORTS.valkey) },
        ...workflowEgress(cluster),
      ],
    }),
  ];
}

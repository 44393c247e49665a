import { nameservers, nodeLink, type Cluster, type ClusterNode } from '@groundwork/cluster';
import { compact } from './machine.ts';

/**
 * Talos 1.13's typed network documents (machine.network is gone from the schema): the hostname, the static
 * address on the node's link (or on a VLAN over it), the default route, resolvers, time servers, and the API
 * VIP on control planes. Talos in Docker gets its addresses from Docker, so only the hostname is set there.
 */

type Doc = Record<string, unknown>;

const doc = (kind: string, fields: Doc): Doc => ({ apiVersion: 'v1alpha1', kind, ...fields });

/** Name of the link that carries the node's address; a MAC-selected link gets an alias. */
function baseLink(node: ClusterNode): string {
  return nodeLink(node) ?? 'net0';
}

function addressLink(cluster: Cluster, node: ClusterNode): string {
  const vlan = cluster.network.vlan;
  return vlan ? `${baseLink(node)}.${vlan}` : baseLink(node);
}

export function networkDocuments(cluster: Cluster, node: ClusterNode): Doc[] {
  const docs: Doc[] = [doc('HostnameConfig', { hostname: node.name })];
  if (node.platform === 'docker') return docs;
  const prefix = cluster.network.nodeCidr.split('/')[1];
  const address = { addresses: [{ address: `${node.ip}/${prefix}` }], routes: [{ gateway: cluster.network.gateway }] };
  const mtu = cluster.network.mtu;
  if (node.mac && !node.link) {
    docs.push(doc('LinkAliasConfig', { name: 'net0', selector: { match: `mac(link.permanent_addr) == "${node.mac}"` } }));
  }
  if (cluster.network.vlan) {
    docs.push(doc('LinkConfig', compact({ name: baseLink(node), up: true, mtu })));
    docs.push(doc('VLANConfig', compact({ name: addressLink(cluster, node), vlanID: cluster.network.vlan, parent: baseLink(node), up: true, mtu, ...address })));
  } else {
    docs.push(doc('LinkConfig', compact({ name: baseLink(node), up: true, mtu, ...address })));
  }
  docs.push(doc('ResolverConfig', { nameservers: nameservers(cluster).map((ns) => ({ address: ns })) }));
  docs.push(doc('TimeSyncConfig', { ntp: { servers: cluster.network.ntp } }));
  const vip = cluster.network.vip;
  if (vip && node.role === 'controlplane') {
    // The VIP answers only once etcd is up (Talos elects its holder through etcd): never use it as a Talos endpoint.
    docs.push(doc('Layer2VIPConfig', { name: vip.address, link: vip.link ? (cluster.network.vlan ? `${vip.link}.${cluster.network.vlan}` : vip.link) : addressLink(cluster, node) }));
  }
  return docs;
}

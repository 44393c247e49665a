import { Document } from 'yaml';
import { talosContract } from '@groundwork/cluster';
import { v1alpha1Document, type NodeInput } from './machine.ts';
import { loggingDocuments } from './logging.ts';
import { networkDocuments } from './network.ts';
import { storageDocuments } from './storage.ts';

/**
 * A node's machine configuration for the cluster's Talos contract. Each contract is one function, so the next
 * Talos line (1.14 moves most of v1alpha1 into typed documents) is added beside this one, not inside it.
 */
export type Documents = Array<Record<string, unknown>>;

const CONTRACTS: Record<string, (input: NodeInput) => Documents> = {
  'v1.13': (input) => [v1alpha1Document(input), ...networkDocuments(input.cluster, input.node), ...loggingDocuments(input.cluster), ...storageDocuments(input.cluster, input.node)],
};

export function renderDocuments(input: NodeInput): Documents {
  const contract = talosContract(input.cluster);
  const render = CONTRACTS[contract];
  if (!render) throw new Error(`no machine-config contract ${contract} in talos-config`);
  return render(input);
}

/** YAML as talosctl writes machine configs: documents separated by `---`, 4-space indent, no line folding. */
export function documentsToYaml(docs: Documents): string {
  return docs.map((d) => new Document(d).toString({ indent: 4, lineWidth: 0, minContentWidth: 0 })).join('---\n');
}

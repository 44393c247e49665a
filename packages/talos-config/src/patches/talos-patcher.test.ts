import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exampleCluster, scratchDir } from '@groundwork/testkit';
import { programPath } from '@groundwork/testkit/programs';
import { generateBundle } from '../bundle/bundle.ts';
import { documentsToYaml, renderDocuments } from '../config/render.ts';
import { coerceScalarsToStrings } from '../validate/schema.ts';
import { applyPatch } from './strategic.ts';

/**
 * Our strategic merge against Talos's own patcher (pkg/machinery/config/configpatcher, as `talosctl
 * machineconfig patch` runs it): the same patch on the same rendered config must give the same config, both
 * written out by Talos's encoder.
 */

type Doc = Record<string, unknown>;
const dir = scratchDir('gw-talos-patch-');
const cluster = exampleCluster('pi-fleet').config;
const rule: Doc = {
  apiVersion: 'v1alpha1',
  kind: 'NetworkRuleConfig',
  name: 'kubelet-ingress',
  portSelector: { ports: [10250, '30000-32767'], protocol: 'tcp' },
  ingress: [{ subnet: '192.168.1.0/24' }, { subnet: '10.244.0.0/16' }],
};
const base = [...(renderDocuments({ cluster, bundle: generateBundle(), node: cluster.nodes[0]! }) as Doc[]), rule];

/** The config Talos's encoder writes for these documents (loaded and encoded by Talos, nothing patched). */
function talos(configFile: string, patches: string[] = []): string {
  const result = spawnSync(programPath('talos-check'), ['patch', '--config', configFile, ...patches], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

const CASES: Record<string, string> = {
  'maps merge, lists append, an unquoted number becomes text': 'machine:\n  certSANs: [extra.example.com]\n  sysctls:\n    net.core.somaxconn: 65535\n  kubelet:\n    extraArgs:\n      max-pods: "150"\n',
  "the replace-lists of v1alpha1 (subnets, audit policy)": 'cluster:\n  network:\n    podSubnets: [10.42.0.0/16]\n  apiServer:\n    auditPolicy:\n      apiVersion: audit.k8s.io/v1\n      kind: Policy\n      rules:\n        - level: Metadata\n',
  'admission plugins merge by name': 'cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          defaults:\n            enforce: baseline\n',
  "NetworkRuleConfig's ingress and ports are replaced": 'apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: kubelet-ingress\nportSelector:\n  ports: [10250]\ningress:\n  - subnet: 192.168.1.0/24\n',
  'typed documents merge by kind and name, and $patch deletes': 'apiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 9.9.9.9\n---\napiVersion: v1alpha1\nkind: TimeSyncConfig\n$patch: delete\n---\nmachine:\n  features:\n    hostDNS:\n      $patch: delete\n',
};

describe("patches give what Talos's own patcher gives", () => {
  const baseFile = join(dir, 'base.yaml');
  writeFileSync(baseFile, documentsToYaml(base));

  for (const [name, patch] of Object.entries(CASES)) {
    it(name, () => {
      const patchFile = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(patchFile, patch);
      const ours = applyPatch(base, parseAllDocuments(patch).map((d) => d.toJS() as Doc));
      coerceScalarsToStrings(ours, 'v1.13');
      const oursFile = `${patchFile}.ours`;
      writeFileSync(oursFile, documentsToYaml(ours));
      expect(talos(oursFile)).toBe(talos(baseFile, [patchFile]));
    });
  }

  it('sees the difference when a replace-list is appended instead (the check can fail)', () => {
    const patch = CASES["NetworkRuleConfig's ingress and ports are replaced"]!;
    const patchFile = join(dir, 'appended.yaml');
    writeFileSync(patchFile, patch);
    const appended = base.map((d) => (d.kind === 'NetworkRuleConfig' ? { ...d, ingress: [...(d.ingress as Doc[]), { subnet: '192.168.1.0/24' }] } : d));
    writeFileSync(`${patchFile}.ours`, documentsToYaml(appended));
    expect(talos(`${patchFile}.ours`)).not.toBe(talos(baseFile, [patchFile]));
  });
});

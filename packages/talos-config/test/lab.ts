import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initClusterKey } from '@groundwork/secrets-sops';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type RunResult, type ScratchWorkspace } from '@groundwork/testkit';
import { main as talos } from '../src/talos-cli.ts';
import { main as generate } from '../src/generate.ts';
import { bundleFromYaml } from '../src/bundle/bundle.ts';
import { FakeTalosNode, adminKubeconfig, sharedState, type SharedState } from './fake-talos.ts';
import { TalosKubernetes } from './talos-kubernetes.ts';
import { labClusterYaml } from './fixtures.ts';

/**
 * A lab cluster for the Day-2 tests, brought up the way a user does it: a cluster key, `gw-talos init`,
 * generate, then apply to machines in maintenance mode (Talos API stand-ins), which bootstraps etcd and starts a
 * real Kubernetes control plane from the rendered config, with the nodes registered as kwok nodes.
 */
export interface Lab {
  ws: ScratchWorkspace;
  nodes: FakeTalosNode[];
  node(name: string): FakeTalosNode;
  state: SharedState;
  kubernetes: TalosKubernetes;
  /** Runs gw-talos (or another main) in the workspace with the address map and short timeouts. */
  run(argv: string[], extra?: NodeJS.ProcessEnv, main?: (argv: string[]) => Promise<number>): Promise<RunResult>;
  /**
   * Rewrites cluster.yaml with other options (and only the nodes named in `keep`, when given), keeping its
   * `sops:` recipients, and renders again.
   */
  reconfigure(options: Parameters<typeof labClusterYaml>[0], keep?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startLab(options: Parameters<typeof labClusterYaml>[0] & { talosVersion?: string }): Promise<Lab> {
  const ws = scratchWorkspace({ lab: labClusterYaml(options) });
  const env = isolatedEnv(scratchDir());
  await initClusterKey(ws.root, 'lab', 'x25519');
  const quiet = (main: (argv: string[]) => Promise<number>, argv: string[]) => runIn(ws.root, main, argv, env);
  for (const [main, argv] of [[talos, ['init', '--cluster=lab']], [generate, ['--cluster=lab']]] as const) {
    const result = await quiet(main, [...argv]);
    if (result.code !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  }
  const exported = join(scratchDir(), 'secrets.yaml');
  await quiet(talos, ['export', '--cluster=lab', `--output=${exported}`]);
  const bundle = bundleFromYaml(readFileSync(exported, 'utf8'));
  const kubernetes = await TalosKubernetes.create();
  const state = sharedState(kubernetes);
  const planes = options.controlPlanes ?? 1;
  const endpoint = planes > 1 ? '10.9.0.10' : '10.9.0.11';
  const kubeconfig = adminKubeconfig(bundle, 'lab', `https://${endpoint}:6443`);
  const specs = [
    ...Array.from({ length: planes }, (_, i) => ({ name: `cp-${i + 1}`, ip: `10.9.0.${11 + i}`, controlPlane: true })),
    ...Array.from({ length: options.workers ?? 1 }, (_, i) => ({ name: `w-${i + 1}`, ip: `10.9.0.${21 + i}`, controlPlane: false })),
  ];
  const nodes = specs.map((spec) => new FakeTalosNode({ ...spec, talosVersion: options.talosVersion ?? 'v1.13.9' }, bundle, state, () => kubeconfig));
  for (const node of nodes) await node.start();
  const map = [...nodes.map((n) => `${n.spec.ip}:50000=127.0.0.1:${n.port}`), `${endpoint}:6443=127.0.0.1:${kubernetes.apiPort}`].join(',');
  // kubectl-style clients do not follow GROUNDWORK_ADDRESS_MAP: the Day-2 commands get the admin kubeconfig
  // pointing at the API server's loopback address, as other layers' tests do (GROUNDWORK_KUBECONFIG).
  const loopbackKubeconfig = join(scratchDir(), 'kubeconfig');
  const fast: NodeJS.ProcessEnv = { GROUNDWORK_KUBECONFIG: loopbackKubeconfig, GROUNDWORK_ADDRESS_MAP: map, GROUNDWORK_POLL_MS: '200', GROUNDWORK_TALOS_NODE_TIMEOUT_MS: '60000', GROUNDWORK_KUBERNETES_TIMEOUT_MS: '90000', GROUNDWORK_TALOS_PROBE_TIMEOUT_MS: '2000', GROUNDWORK_DRAIN_TIMEOUT_MS: '8000' };
  const lab: Lab = {
    ws,
    nodes,
    node: (name) => nodes.find((n) => n.spec.name === name)!,
    state,
    kubernetes,
    run: (argv, extra = {}, main = talos) => runIn(ws.root, main, argv, { ...env, ...fast, ...extra }),
    reconfigure: async (changed, keep) => {
      const head = labClusterYaml({ ...options, ...changed }).split('sops:')[0]!;
      const nodes = head.split('\n').filter((l) => !keep || !/\{ name: (cp|w)-\d/.test(l) || keep.some((n) => l.includes(`{ name: ${n},`)));
      ws.write('clusters/lab/cluster.yaml', `${nodes.join('\n')}sops:${ws.read('clusters/lab/cluster.yaml').split('sops:')[1]}`);
      const result = await quiet(generate, ['--cluster=lab']);
      if (result.code !== 0) throw new Error(`generate: ${result.stderr}`);
    },
    stop: async () => {
      for (const node of nodes) await node.stop();
      await kubernetes.stop();
    },
  };
  const applied = await lab.run(['apply', '--cluster=lab']);
  if (applied.code !== 0) throw new Error(`apply: ${applied.stderr}\n${kubernetes.failure?.message ?? ''}`);
  writeFileSync(loopbackKubeconfig, (await kubernetes.started()).kubeconfig(), { mode: 0o600 });
  await kubernetes.settled();
  return lab;
}

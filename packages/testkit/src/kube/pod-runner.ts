import { join } from 'node:path';
import { runPod, type PodRun, type Runtime } from '../pods.ts';
import { scratchDir } from '../workspace.ts';
import type { KubeObject, TestClient } from './client.ts';

/**
 * A kubelet for the pods a test wants run for real: the real scheduler binds them to a kwok node (kwok is told
 * to leave them alone), this runner picks them up, runs their containers with runPod (real programs, a
 * read-only root, the pod's volumes), and reports each container's exit code and termination message in the
 * pod's status, as a kubelet would. The real controllers take it from there (a Job counts the pod, retries it
 * up to its backoffLimit, and marks itself Complete or Failed).
 */

export interface PodRunnerOptions {
  client: TestClient;
  /** Which pods this runner owns; kwok must be told to leave exactly these alone (KwokOptions.leavePods). */
  owns: (pod: KubeObject) => boolean;
  runtimeFor: (image: string) => Runtime;
  /**
   * Folders standing in for PersistentVolumeClaims, by claim name. A claim not named here is followed to its
   * bound PersistentVolume, whose hostPath or local path is found in the node's folder (see nodeRoot).
   */
  claims?: Record<string, string>;
  /** The folder holding one folder per node, standing for each node's filesystem (hostPath volumes). */
  nodesDir?: string;
  /** Per-container environment changes (hosts and ports only), by pod. */
  overrides?: (pod: KubeObject) => Record<string, Record<string, string>>;
  pollMs?: number;
}

export interface PodRunner {
  runs: Array<PodRun & { pod: string }>;
  /** The folder standing for a node's filesystem root. */
  nodeRoot(node: string): string;
  /** Resolves when every pod picked up so far has finished and been reported. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

type PodSpec = Record<string, unknown> & { volumes?: object[]; containers: Array<{ name: string; image: string }>; initContainers?: Array<{ name: string; image: string }> };

function terminated(container: PodRun['containers'][number], image: string, at: string) {
  const code = container.code ?? 137;
  return {
    name: container.name,
    image,
    imageID: '',
    ready: false,
    restartCount: 0,
    started: false,
    state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', message: container.terminationMessage || container.log.slice(-2000), startedAt: at, finishedAt: new Date().toISOString() } },
  };
}

export function startPodRunner(options: PodRunnerOptions): PodRunner {
  const { client } = options;
  const started = new Set<string>();
  const pending: Array<Promise<void>> = [];
  const runs: PodRunner['runs'] = [];
  let stopped = false;
  const nodesDir = options.nodesDir ?? scratchDir('gw-nodes-');
  const nodeRoot = (node: string) => join(nodesDir, node);

  /** The folders for the pod's claims: the test's, or the node's folder at the bound volume's path. */
  async function claimFolders(pod: KubeObject, spec: PodSpec): Promise<Record<string, string>> {
    const folders: Record<string, string> = { ...options.claims };
    const node = (spec as { nodeName?: string }).nodeName!;
    for (const volume of (spec.volumes ?? []) as Array<{ persistentVolumeClaim?: { claimName: string } }>) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (!claim || folders[claim]) continue;
      const pvc = await client.get('v1', 'PersistentVolumeClaim', claim, pod.metadata.namespace);
      const bound = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
      const pv = bound ? await client.get('v1', 'PersistentVolume', bound) : undefined;
      const path = (pv?.spec as { hostPath?: { path: string }; local?: { path: string } } | undefined)?.hostPath?.path ?? (pv?.spec as { local?: { path: string } } | undefined)?.local?.path;
      if (path) folders[claim] = join(nodeRoot(node), path);
    }
    return folders;
  }

  async function run(pod: KubeObject): Promise<void> {
    const namespace = pod.metadata.namespace!;
    const spec = pod.spec as PodSpec;
    const at = new Date().toISOString();
    await client.setStatus('v1', 'Pod', pod.metadata.name, namespace, { phase: 'Running', startTime: at }, 'kubelet');
    const [configMaps, secrets] = await Promise.all([client.list('v1', 'ConfigMap', { namespace }), client.list('v1', 'Secret', { namespace })]);
    const images = new Map([...(spec.initContainers ?? []), ...spec.containers].map((c) => [c.name, c.image]));
    let result: PodRun;
    try {
      result = await runPod({ pod: spec, namespace, objects: [...configMaps.map((o) => ({ ...o, kind: 'ConfigMap' })), ...secrets.map((o) => ({ ...o, kind: 'Secret' }))], runtimeFor: options.runtimeFor, claims: await claimFolders(pod, spec), nodeRoot: nodeRoot((spec as { nodeName?: string }).nodeName!), overrides: options.overrides?.(pod) ?? {}, scratch: join(scratchDir('gw-kubelet-'), pod.metadata.name) });
    } catch (error) {
      // A pod this machine cannot run (an image without a runtime, a volume kind not supported) fails, as a
      // kubelet reports a container it cannot create.
      result = { phase: 'Failed', containers: [{ name: spec.containers[0]!.name, init: false, code: 128, log: (error as Error).message, terminationMessage: (error as Error).message, env: {} }] };
    }
    runs.push({ ...result, pod: `${namespace}/${pod.metadata.name}` });
    const report = (init: boolean) => result.containers.filter((c) => c.init === init).map((c) => terminated(c, images.get(c.name) ?? '', at));
    await client.setStatus('v1', 'Pod', pod.metadata.name, namespace, {
      phase: result.phase,
      conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: new Date().toISOString() }],
      initContainerStatuses: report(true),
      containerStatuses: report(false),
    }, 'kubelet');
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        for (const pod of await client.list('v1', 'Pod')) {
          const nodeName = (pod.spec as { nodeName?: string }).nodeName;
          const phase = (pod.status as { phase?: string } | undefined)?.phase;
          const key = `${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}`;
          if (!nodeName || phase !== 'Pending' || started.has(key) || pod.metadata.deletionTimestamp || !options.owns(pod)) continue;
          started.add(key);
          pending.push(run(pod).catch((error: unknown) => void runs.push({ pod: key, phase: 'Failed', containers: [{ name: 'runner', init: false, code: null, log: String(error), terminationMessage: '', env: {} }] })));
        }
      } catch {
        // The API server is going away at the end of a test; the next round (if any) tries again.
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
  })();

  return {
    runs,
    nodeRoot,
    settled: async () => {
      let seen = -1;
      while (seen !== pending.length) {
        seen = pending.length;
        await Promise.all(pending);
      }
    },
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.all(pending);
    },
  };
}

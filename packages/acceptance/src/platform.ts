import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration } from '@groundwork/kit';
import { APPLYSET, applySetFor, describe as describeObject, footprint, parseQuantity, podTemplateOf, type KubeObject } from '@groundwork/kube';
import { BUSYBOX_RUNTIME, LOCAL_PATH_HELPER_CEL, describeRequest, drainNode, isLocalPathHelper, mutatingRequests, startCiliumOperator, startClusterControlPlane, startLocalPathProvisioner, startPodRunner, uncordon, type ClusterControlPlane, type PodRunner, type ProcessPod } from '@groundwork/testkit/kube';
import { programPath } from '@groundwork/testkit/programs';
import { execFile } from '@groundwork/kit';
import { checkIngressRouting } from './ingress.ts';
import { KUBERNETES_LAYERS, LAYERS, allRenderedYaml, exampleWorkspace, renderedFiles, type ExampleWorkspace } from './workspace.ts';

/**
 * One example cluster's whole platform on its own control plane: every layer's generate, then every layer's
 * apply in dependency order to a real kube-apiserver, controller-manager and scheduler started from the
 * cluster's rendered Talos config (Pod Security, encryption, audit as Talos runs them), with a kwok node for each
 * machine of the cluster file and Cilium's real operator. Then the checks a platform team would want before
 * going live: every pod scheduled and every rollout complete, a second apply that writes nothing, files kubectl
 * can read, CronJobs whose Jobs complete, the footprint report against the scheduler's placement, and every node
 * drained within the PodDisruptionBudgets.
 */

const isReadyPod = (pod: KubeObject) => ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const phaseOf = (pod: KubeObject) => (pod.status as { phase?: string } | undefined)?.phase ?? 'Unknown';
const requests = (pod: KubeObject) => {
  const spec = pod.spec as { containers: Array<{ resources?: { requests?: Record<string, string> } }> };
  return spec.containers.reduce((sum, c) => ({ cpu: sum.cpu + parseQuantity(c.resources?.requests?.cpu ?? '0'), memory: sum.memory + parseQuantity(c.resources?.requests?.memory ?? '0') }), { cpu: 0, memory: 0 });
};

export function describePlatform(name: string): void {
  describe(`${name}: the whole platform on a control plane started from its own Talos config`, () => {
    let example: ExampleWorkspace;
    let plane: ClusterControlPlane;
    let operator: Promise<ProcessPod> | undefined;
    let provisioner: Promise<ProcessPod> | undefined;
    let runner: PodRunner | undefined;
    const figures: Array<[string, string]> = [];
    const figure = (what: string, value: string) => figures.push([what, value]);
    const objects = () => KUBERNETES_LAYERS.flatMap((layer) => example.rendered(layer));
    /** Pods in the namespaces the layers render (kube-system holds only what Talos puts there). */
    const groundworkPods = async () => {
      const namespaces = new Set(objects().filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
      return (await plane.client.list('v1', 'Pod')).filter((p) => namespaces.has(p.metadata.namespace!));
    };

    beforeAll(async () => {
      example = await exampleWorkspace(name);
    });
    afterAll(async () => {
      await (await operator?.catch(() => undefined))?.stop();
      await (await provisioner?.catch(() => undefined))?.stop();
      await runner?.stop();
      await plane?.stop();
      process.stderr.write(`${name}, the whole platform:\n${figures.map(([w, v]) => `  ${w.padEnd(52)} ${v}`).join('\n')}\n`);
    });

    it('renders every layer with its own generate, after a new cluster key replaces the example one', async () => {
      const rekey = await example.script('secrets-sops', 'secrets-cli', ['rekey', `--cluster=${name}`]);
      expect(rekey.code, rekey.stderr).toBe(0);
      for (const layer of LAYERS) {
        const run = await example.script(layer, 'generate');
        expect(run.code, `${layer}: ${run.stderr}`).toBe(0);
        figure(`generate ${layer}`, formatDuration(run.ms));
      }
    });

    it('starts its control plane from the rendered config of its first control plane, with a kwok node per machine', async () => {
      // local-path's real provisioner makes every volume: its helper pods run for real, the rest are kwok's.
      plane = await startClusterControlPlane(example.ws.root, example.cluster, { kwok: { leavePods: [{ cel: { expression: `!${LOCAL_PATH_HELPER_CEL}` } }] } });
      runner = startPodRunner({ client: plane.client, owns: isLocalPathHelper, runtimeFor: () => BUSYBOX_RUNTIME });
      figure('control plane ready (etcd, API server, controllers, kwok)', formatDuration(plane.startupMs));
      example.ws.useKubeconfig(name, plane.kubeconfig());
      const nodes = await plane.client.list('v1', 'Node');
      expect(nodes.map((n) => n.metadata.name).sort()).toEqual(example.cluster.config.nodes.map((n) => n.name).sort());
    });

    it('applies every layer in order with its own apply: every rollout completes and every pod is scheduled and running', async () => {
      for (const layer of KUBERNETES_LAYERS) {
        // Cilium's operator starts once its Deployment is applied, as its pod would.
        if (layer === 'platform-core' && example.cluster.config.features.cilium.enabled) operator = startCiliumOperator(plane);
        if (layer === 'platform-core') provisioner = startLocalPathProvisioner(plane);
        const before = plane.audit().length;
        const run = await example.script(layer, 'apply');
        expect(run.code, `${layer}: ${run.stderr}\n${operator ? await operator.then((o) => o.program.tail(), (e: Error) => `cilium-operator: ${e.message}`) : ''}`).toBe(0);
        figure(`apply ${layer} (first)`, `${formatDuration(run.ms)}, ${mutatingRequests(plane.audit().slice(before), 'admin').length} mutating requests`);
      }
      const pods = await plane.client.list('v1', 'Pod');
      const stuck = pods.filter((p) => !['Running', 'Succeeded'].includes(phaseOf(p)) || (phaseOf(p) === 'Running' && !isReadyPod(p)));
      expect(stuck.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${phaseOf(p)} ${JSON.stringify((p.status as { conditions?: unknown[] }).conditions ?? [])}`)).toEqual([]);
      figure('pods running', `${pods.length} (${(await groundworkPods()).length} of them groundwork's)`);
    });

    it('a second apply of every layer sends no write at all (audit log)', async () => {
      for (const layer of KUBERNETES_LAYERS) {
        const before = plane.audit().length;
        const run = await example.script(layer, 'apply');
        expect(run.code, `${layer}: ${run.stderr}`).toBe(0);
        const writes = mutatingRequests(plane.audit().slice(before), 'admin').map(describeRequest);
        expect(writes, layer).toEqual([]);
        figure(`apply ${layer} (second)`, `${formatDuration(run.ms)}, ${writes.length} mutating requests`);
      }
    });

    it('gw-status on the whole platform: every node Ready, every layer\'s workloads ready; no Talos here, so exit 5', async () => {
      const run = await example.script('ops', 'status-cli', [`--cluster=${name}`, '--json'], { GROUNDWORK_TALOS_PROBE_TIMEOUT_MS: '1500' });
      const status = JSON.parse(run.stdout) as { exitCode: number; reachable: { kubernetes: boolean; talos: boolean }; nodes: { nodes: Array<{ name: string; kubernetes: { registered: boolean; ready?: boolean } }> }; workloads: { verdict: string; layers: Array<{ layer: string; verdict: string }> }; backups: { verdict: string } };
      // The machines are kwok nodes: nothing answers the Talos API, which status reports as unreachable.
      expect(run.code, run.stderr).toBe(5);
      expect(status.reachable).toMatchObject({ kubernetes: true, talos: false });
      expect(status.nodes.nodes.filter((n) => !n.kubernetes.registered || n.kubernetes.ready !== true).map((n) => n.name)).toEqual([]);
      const withWorkloads = KUBERNETES_LAYERS.filter((layer) => example.rendered(layer).some((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)));
      expect(status.workloads.layers.map((l) => l.layer).sort()).toEqual([...withWorkloads].sort());
      expect(status.workloads.layers.filter((l) => l.verdict !== 'healthy')).toEqual([]);
      expect(status.backups.verdict).not.toBe('unhealthy');
      figure('gw-status (Talos unreachable, 1.5 s deadline)', formatDuration(run.ms));
    });

    it('kubectl reads every rendered file (a server-side dry run as each layer\'s manager changes nothing) and lists each layer\'s ApplySet members', async () => {
      for (const layer of KUBERNETES_LAYERS) {
        for (const file of renderedFiles(example.ws.root, name, layer)) {
          const dry = plane.kubectl(['apply', '--server-side', `--field-manager=groundwork-${layer}`, '--dry-run=server', '-f', file]);
          expect(dry.status, `${file}: ${dry.stderr}`).toBe(0);
        }
        const rendered = example.rendered(layer);
        if (rendered.length === 0) continue;
        const parent = (await plane.client.get('v1', 'ConfigMap', `groundwork-${layer}`, 'kube-system'))!;
        const kinds = parent.metadata.annotations![APPLYSET.groupKinds]!.split(',').map((gk) => gk.toLowerCase()).join(',');
        const listed = plane.kubectl(['get', kinds, '-A', '-l', `${APPLYSET.partOf}=${applySetFor(layer).id}`, '-o', 'name']);
        expect(listed.status, listed.stderr).toBe(0);
        // Secrets are applied decrypted, so a layer lists at least as many members as it renders objects.
        expect(listed.stdout.trim().split('\n').length, layer).toBeGreaterThanOrEqual(rendered.length);
      }
    });

    it('every rendered YAML file of every layer (machine configs and encrypted Secrets too) is read by kubectl\'s and Flux\'s YAML reader', () => {
      const files = allRenderedYaml(example.ws.root, name);
      expect(files.length).toBeGreaterThan(10);
      const read = execFile(programPath('yaml-reader'), files);
      expect(read.status, read.stdout.toString()).toBe(0);
      figure('rendered YAML files read by the ecosystem\'s reader', String(files.length));
    });

    it('Traefik\'s own Ingress provider, as Traefik\'s ServiceAccount, routes every rendered Ingress path to its Service and publishes the address', async () => {
      const checked = await checkIngressRouting(plane, example.cluster, objects());
      figure('Ingress paths routed by Traefik\'s provider and router', String(checked));
    });

    it('runs a Job from every CronJob, as `kubectl create job --from` does, and each completes', async () => {
      const cronJobs = (await plane.client.list('batch/v1', 'CronJob')).filter((c) => c.metadata.labels?.['groundwork.dev/layer']);
      for (const cron of cronJobs) {
        const job = `${cron.metadata.name}-acceptance`;
        const created = plane.kubectl(['create', 'job', job, `--from=cronjob/${cron.metadata.name}`, '-n', cron.metadata.namespace!]);
        expect(created.status, created.stderr).toBe(0);
        await plane.client.waitFor(`Job ${cron.metadata.namespace}/${job} to complete`, async () => (((await plane.client.get('batch/v1', 'Job', job, cron.metadata.namespace))?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True') || undefined);
      }
      figure('CronJobs whose Jobs completed', String(cronJobs.length));
    });

    it('places what the footprint report counts: DaemonSets on the nodes it expects, the same pods and the same requests', async () => {
      const report = footprint(objects(), example.cluster.config);
      for (const object of objects().filter((o) => o.kind === 'DaemonSet')) {
        const live = (await plane.client.get('apps/v1', 'DaemonSet', object.metadata.name, object.metadata.namespace))!;
        const expected = report.workloads.find((w) => w.object === describeObject(object))!.pods;
        expect((live.status as { desiredNumberScheduled: number }).desiredNumberScheduled, describeObject(object)).toBe(expected);
      }
      const steady = (await groundworkPods()).filter((p) => phaseOf(p) === 'Running' && !(p.metadata.ownerReferences as Array<{ kind: string }> | undefined)?.some((o) => o.kind === 'Job'));
      const placed = steady.reduce((sum, p) => ({ cpu: sum.cpu + requests(p).cpu, memory: sum.memory + requests(p).memory }), { cpu: 0, memory: 0 });
      const pods = report.workloads.filter((w) => !w.transient).reduce((sum, w) => sum + w.pods, 0);
      expect(steady.length).toBe(pods);
      expect(Math.round(placed.cpu * 1000)).toBe(Math.round(report.total.cpuRequests * 1000));
      expect(placed.memory).toBe(report.total.memoryRequests);
      const perNode = new Map<string, { cpu: number; memory: number }>();
      for (const pod of await plane.client.list('v1', 'Pod')) {
        const node = (pod.spec as { nodeName?: string }).nodeName;
        if (!node || phaseOf(pod) !== 'Running') continue;
        const r = requests(pod);
        const sum = perNode.get(node) ?? { cpu: 0, memory: 0 };
        perNode.set(node, { cpu: sum.cpu + r.cpu, memory: sum.memory + r.memory });
      }
      for (const node of await plane.client.list('v1', 'Node')) {
        const allocatable = (node.status as { allocatable: Record<string, string> }).allocatable;
        const used = perNode.get(node.metadata.name) ?? { cpu: 0, memory: 0 };
        figure(`requests on ${node.metadata.name} (all pods)`, `${Math.round(used.cpu * 1000)}m of ${allocatable.cpu} CPU, ${Math.round(used.memory / 2 ** 20)}Mi of ${Math.round(parseQuantity(allocatable.memory!) / 2 ** 20)}Mi`);
      }
      figure('groundwork requests placed / footprint report', `${Math.round(placed.cpu * 1000)}m / ${Math.round(report.total.cpuRequests * 1000)}m CPU, ${Math.round(placed.memory / 2 ** 20)}Mi / ${Math.round(report.total.memoryRequests / 2 ** 20)}Mi`);
    });

    it('drains each node in turn through the Eviction API without a PodDisruptionBudget blocking it', async () => {
      const workloads = objects().filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && podTemplateOf(o));
      for (const node of example.cluster.config.nodes) {
        const outcome = await drainNode(plane.client, node.name, { timeoutMs: 60_000 });
        expect(outcome.blocked, `draining ${node.name}`).toEqual([]);
        await uncordon(plane.client, node.name);
        figure(`drain ${node.name}`, `${outcome.evicted.length} pods evicted in ${formatDuration(outcome.ms)}`);
        // Everything back before the next node goes: pods pinned to this node's volumes return to it.
        for (const workload of workloads) {
          await plane.client.waitFor(`${describeObject(workload)} to be available again`, async () => {
            const status = (await plane.client.get(workload.apiVersion, workload.kind, workload.metadata.name, workload.metadata.namespace))?.status as { readyReplicas?: number; replicas?: number } | undefined;
            const want = (workload.spec as { replicas?: number }).replicas ?? 1;
            return (status?.readyReplicas ?? 0) >= want ? true : undefined;
          }, 120_000);
        }
      }
    });
  });
}

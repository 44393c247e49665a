import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { LoadedCluster } from '@groundwork/cluster';
import { scratchDir } from '@groundwork/testkit';
import { freePort } from '@groundwork/testkit/services';
import { programPath, programVersion } from '@groundwork/testkit/programs';
import { startPrometheus, type RunningPrometheus } from '@groundwork/testkit/prometheus';
import { addNodes, serviceAccountToken, startControlPlane, startKubeStateMetrics, startProgram, testNode, throwawaySpec, type ControlPlane, type ProcessPod, type Program } from '@groundwork/testkit/kube';
import { configMapData } from '../checks/tools.ts';
import { renderedObjects } from '../platform.ts';

/**
 * The rendered Prometheus configuration, run by the pinned Prometheus against the real programs this machine
 * can run: kube-apiserver, etcd, kube-controller-manager and kube-scheduler (a control plane with a node per
 * machine of the cluster file, the observability layer's objects applied), kube-state-metrics on its rendered
 * Deployment, node_exporter on this machine, and Prometheus itself, with the rendered rules. Each job keeps its
 * scheme, credentials (the rendered ServiceAccount's token, so its RBAC is real), TLS settings and metric
 * relabelling; only discovery becomes a static target at the test's address. Jobs whose programs cannot run
 * here (the kubelets and cAdvisor, Cilium's agents, Alertmanager, Loki, Grafana, annotated pods) are left out
 * and listed.
 */

export interface MeasuredRun {
  prometheus: RunningPrometheus;
  plane: ControlPlane;
  /** kube-state-metrics' own metrics address. */
  kubeStateMetrics: string;
  /** Jobs scraped, and those left out because their program cannot run here. */
  jobs: string[];
  skipped: string[];
  stop(): Promise<void>;
}

type Job = { job_name: string; kubernetes_sd_configs?: unknown; relabel_configs?: unknown; static_configs?: unknown; authorization?: { credentials_file?: string }; tls_config?: { ca_file?: string } } & Record<string, unknown>;

const APPLIED_KINDS = new Set(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'NetworkPolicy', 'PodDisruptionBudget']);

export async function startMeasuredRun(cluster: LoadedCluster, options: { scrapeInterval?: string } = {}): Promise<MeasuredRun> {
  const rendered = renderedObjects(cluster);
  const plane = await startControlPlane({ spec: throwawaySpec(programVersion('kube-apiserver'), cluster.name) });
  const stops: Array<() => Promise<void>> = [() => plane.stop()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    await addNodes(plane.client, cluster.config.nodes.map((n) => testNode(n.name)));
    const ordered = [...rendered.filter((o) => o.kind === 'Namespace'), ...rendered.filter((o) => o.kind !== 'Namespace' && APPLIED_KINDS.has(o.kind))];
    for (const object of ordered) await plane.client.apply(object, 'groundwork-observability');
    const ksm: ProcessPod & { metrics: string } = await startKubeStateMetrics(plane);
    stops.push(() => ksm.stop());
    const nodePort = await freePort();
    const dir = scratchDir('gw-measured-');
    const nodeExporter: Program = startProgram('node_exporter', programPath('node_exporter'), [`--web.listen-address=127.0.0.1:${nodePort}`], join(dir, 'node_exporter.log'));
    stops.push(() => nodeExporter.stop());

    // The rendered ServiceAccount's identity, where the pod would have it mounted.
    const sa = join(dir, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), await serviceAccountToken(plane, 'observability', 'prometheus'));
    writeFileSync(join(sa, 'ca.crt'), plane.spec.ca.crt);
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    for (const [file, text] of Object.entries(configMapData(rendered, 'prometheus-rules'))) writeFileSync(join(rulesDir, file), text);
    const config = parse(configMapData(rendered, 'prometheus-config')['prometheus.yml']!.replaceAll('/var/run/secrets/kubernetes.io/serviceaccount', sa)) as { global: Record<string, unknown>; scrape_configs: Job[] } & Record<string, unknown>;

    const controlPlane = cluster.config.nodes.find((n) => n.role === 'controlplane')?.name ?? 'control-plane';
    const host = (url: string) => new URL(url).host;
    const targets: Record<string, { target: string; labels?: Record<string, string> }> = {
      prometheus: { target: 'localhost:PORT' },
      'kube-state-metrics': { target: host(ksm.metrics) },
      apiserver: { target: host(plane.url) },
      etcd: { target: host(plane.metrics.etcd), labels: { node: controlPlane } },
      'kube-controller-manager': { target: host(plane.metrics.controllerManager), labels: { node: controlPlane } },
      'kube-scheduler': { target: host(plane.metrics.scheduler), labels: { node: controlPlane } },
      'node-exporter': { target: `127.0.0.1:${nodePort}`, labels: { node: cluster.config.nodes[0]!.name } },
    };
    const jobs = config.scrape_configs.filter((job) => targets[job.job_name]);
    const skipped = config.scrape_configs.filter((job) => !targets[job.job_name]).map((job) => job.job_name);
    config.scrape_configs = jobs.map((job) => {
      const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, static_configs: _static, ...rest } = job;
      const { target, labels } = targets[job.job_name]!;
      return { ...rest, static_configs: [{ targets: [target], ...(labels ? { labels } : {}) }] };
    });
    config.rule_files = [join(rulesDir, '*.yaml')];
    delete config.alerting;
    if (options.scrapeInterval) config.global = { ...config.global, scrape_interval: options.scrapeInterval, evaluation_interval: options.scrapeInterval, scrape_timeout: options.scrapeInterval };
    const prometheus = await startPrometheus(config, { dir });
    stops.push(() => prometheus.stop());
    return { prometheus, plane, kubeStateMetrics: ksm.metrics, jobs: jobs.map((j) => j.job_name), skipped, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface Measurement {
  up: Record<string, number>;
  seriesByJob: Record<string, number>;
  /** Series from recording rules (no job label). */
  recorded: number;
  headSeries: number;
  residentBytes: number;
  heapBytes: number;
  namesByJob: Record<string, string[]>;
}

export async function measure(prometheus: RunningPrometheus): Promise<Measurement> {
  const byJob = async (promql: string) => Object.fromEntries((await prometheus.query(promql)).map((s) => [s.metric.job ?? '', s.value]));
  const names: Record<string, string[]> = {};
  for (const s of await prometheus.query('count by (job, __name__) ({job!=""})')) (names[s.metric.job!] ??= []).push(s.metric.__name__!);
  const one = async (promql: string) => (await prometheus.query(promql))[0]?.value ?? 0;
  return {
    up: await byJob('up'),
    seriesByJob: await byJob('count by (job) ({job!=""})'),
    recorded: await one('count({__name__=~".+", job=""})'),
    headSeries: await one('prometheus_tsdb_head_series'),
    residentBytes: await one('process_resident_memory_bytes{job="prometheus"}'),
    heapBytes: await one('go_memstats_heap_inuse_bytes{job="prometheus"}'),
    namesByJob: Object.fromEntries(Object.entries(names).map(([job, list]) => [job, list.sort()])),
  };
}

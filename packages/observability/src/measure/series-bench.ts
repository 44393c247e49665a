#!/usr/bin/env -S npx node
import { join } from 'node:path';
import { loadCluster } from '@groundwork/cluster';
import { formatDuration } from '@groundwork/kit';
import { prometheusSize } from '../sizing.ts';
import { measure, startMeasuredRun } from './measured-run.ts';

const HELP = `Usage: npm run bench:observability -- [--cluster=pi-fleet] [--scrapes=4] [--interval=30s]

Runs the rendered Prometheus configuration of an example cluster with the pinned Prometheus against the real
control plane, kube-state-metrics and node_exporter (packages/observability/src/measure/measured-run.ts), lets
it scrape --scrapes times at --interval (default: the rendered interval), and prints the series per job, the
head series and Prometheus's memory next to what the cluster's sizing assumes. Jobs whose programs cannot run
here (kubelets, cAdvisor, Cilium's agents, Alertmanager, Loki, Grafana, annotated pods) are listed as skipped.`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const option = (name: string, fallback: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
  const repo = join(import.meta.dirname, '..', '..', '..', '..');
  const cluster = loadCluster(repo, option('cluster', 'pi-fleet'));
  const scrapes = Number(option('scrapes', '4'));
  const interval = option('interval', '30s');
  const seconds = Number(/^(\d+)s$/.exec(interval)?.[1] ?? NaN);
  if (!Number.isInteger(scrapes) || scrapes < 2 || !seconds) throw new Error('--scrapes must be 2 or more and --interval like 30s');
  const started = performance.now();
  process.stderr.write(`· ${cluster.name}: starting the control plane, kube-state-metrics, node_exporter and Prometheus\n`);
  const run = await startMeasuredRun(cluster, { scrapeInterval: interval });
  try {
    for (let i = 1; i <= scrapes; i++) {
      await new Promise((r) => setTimeout(r, seconds * 1000));
      process.stderr.write(`· scrape ${i}/${scrapes} (${formatDuration(performance.now() - started)})\n`);
    }
    const m = await measure(run.prometheus);
    const size = prometheusSize(cluster);
    const rows = Object.entries(m.seriesByJob).sort((a, b) => b[1] - a[1]);
    const out = [
      `${cluster.name}: ${cluster.config.nodes.length} nodes, Prometheus ${interval} interval, ${scrapes} scrapes`,
      ...rows.map(([job, n]) => `  ${job.padEnd(26)} ${String(n).padStart(7)} series${m.up[job] === 1 ? '' : '  (down)'}`),
      `  ${'recording rules'.padEnd(26)} ${String(m.recorded).padStart(7)} series`,
      `  ${'head series'.padEnd(26)} ${String(m.headSeries).padStart(7)}`,
      `  Prometheus resident memory ${(m.residentBytes / 2 ** 20).toFixed(0)} MiB, Go heap in use ${(m.heapBytes / 2 ** 20).toFixed(0)} MiB`,
      `  sizing assumes ${size.series} series: request ${size.memoryRequest}, limit ${size.memoryLimit}`,
      `  not run here: ${run.skipped.join(', ')}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await run.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(1);
  },
);

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '@groundwork/cluster';
import { CATALOG } from '../catalog.ts';
import { prometheusSize } from '../sizing.ts';
import { measure, startMeasuredRun, type MeasuredRun, type Measurement } from './measured-run.ts';

/**
 * The rendered scrape configuration in the pinned Prometheus, against the real control plane, kube-state-metrics
 * and node_exporter (measured-run.ts): every job it can run here is up with the rendered credentials, what the
 * rules and dashboards read (the catalog) is really exported at the pinned versions, the jobs that keep only the
 * catalog's names keep nothing else, and what was measured fits the sizing. The same run, longer and at the
 * rendered interval, is `npm run bench:observability`.
 */
const repo = join(import.meta.dirname, '..', '..', '..', '..');
const cluster = loadCluster(repo, 'pi-fleet');
const SYNTHETIC = new Set(CATALOG.synthetic!.metrics);
const catalogOf = (job: string) => Object.values(CATALOG).filter((s) => s.jobs.includes(job)).flatMap((s) => s.metrics);

describe('the rendered scrape configuration on the real programs', () => {
  let run: MeasuredRun;
  let m: Measurement;

  beforeAll(async () => {
    run = await startMeasuredRun(cluster, { scrapeInterval: '2s' });
    // A few scrapes of every job, and the rules evaluated on them.
    await run.plane.client.waitFor('three scrapes of every job', async () => {
      const counts = await run.prometheus.query('count_over_time(up[1m])');
      return counts.length === run.jobs.length && counts.every((s) => s.value >= 3) ? true : undefined;
    }, 60_000, 1_000);
    m = await measure(run.prometheus);
    process.stderr.write(`series by job: ${JSON.stringify(m.seriesByJob)}; head ${m.headSeries}; resident ${(m.residentBytes / 2 ** 20).toFixed(0)} MiB\n`);
  }, 180_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('scrapes every job it can run here with the rendered scheme, token and TLS settings', () => {
    expect(run.jobs.sort()).toEqual(['apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kube-state-metrics', 'node-exporter', 'prometheus']);
    // The API server, the controller-manager and the scheduler authorize the rendered ServiceAccount's token.
    expect(m.up).toEqual(Object.fromEntries(run.jobs.map((job) => [job, 1])));
  });

  it('finds every catalog metric of these jobs in what the pinned programs export', async () => {
    // (Prometheus's own names are checked with an Alertmanager to notify, in tools.test.ts.)
    for (const job of ['apiserver', 'etcd']) expect(catalogOf(job).filter((name) => !m.namesByJob[job]?.includes(name)), job).toEqual([]);
    // node_exporter on this machine: hardware-only names aside.
    expect(catalogOf('node-exporter').filter((name) => !m.namesByJob['node-exporter']?.includes(name))).toEqual([]);
    // kube-state-metrics declares a family once it has an object to report; the observability layer has no
    // CronJob or Job (backup-alerts.test.ts proves those names on real backup Jobs).
    const families = new Set((await (await fetch(run.kubeStateMetrics)).text()).split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
    expect(catalogOf('kube-state-metrics').filter((name) => !families.has(name) && !/^kube_(cronjob|job)_/.test(name))).toEqual([]);
  });

  it('keeps only the catalog\'s names from the control plane, where the rest is most of the series', () => {
    for (const job of ['apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler']) {
      const kept = new Set(catalogOf(job));
      expect(m.namesByJob[job]?.filter((name) => !kept.has(name) && !SYNTHETIC.has(name) && !name.startsWith('scrape_')), job).toEqual([]);
    }
    // Without the keep lists the API server alone exports well over 10,000 series here.
    expect(m.seriesByJob.apiserver).toBeLessThan(5_000);
  });

  it('fits what was measured in the sizing, with room for what cannot run here', () => {
    const size = prometheusSize(cluster);
    const measuredClusterWide = ['apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kube-state-metrics', 'prometheus'].reduce((sum, job) => sum + (m.seriesByJob[job] ?? 0), 0);
    expect(measuredClusterWide).toBeLessThan(size.series - cluster.config.nodes.length * (m.seriesByJob['node-exporter'] ?? 0));
    expect(m.headSeries).toBeLessThan(size.series);
  });
});

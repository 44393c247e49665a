import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedCluster } from '@groundwork/cluster';
import type { KubeObject } from '@groundwork/kube';
import { configMapData, inScratch, run, summarize } from './tools.ts';

/** Where each kind of alert must end up, by the cluster file's route. */
export function expectedRoutes(cluster: LoadedCluster): Array<{ labels: string[]; receivers: string }> {
  const { receivers, route, heartbeat } = cluster.config.features.observability.alerting;
  const main = route.receiver ?? receivers[0]?.name ?? 'none';
  const critical = route.critical && route.critical !== main ? `${route.critical},${main}` : main;
  return [
    { labels: ['alertname=Watchdog', 'severity=none'], receivers: heartbeat.enabled ? 'heartbeat' : 'none' },
    { labels: ['alertname=NodeMemoryHigh', 'severity=warning'], receivers: main },
    { labels: ['alertname=NodeExporterDown', 'severity=critical'], receivers: critical },
  ];
}

/** amtool on the rendered Alertmanager configuration, and the receivers a warning and a critical alert reach. */
export async function checkAlertmanager(cluster: LoadedCluster, objects: KubeObject[]): Promise<{ problems: string[]; notes: string[] }> {
  const text = configMapData(objects, 'alertmanager-config')['alertmanager.yml']!;
  return inScratch((dir) => {
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, text);
    const checked = run('amtool', ['check-config', file], dir);
    if (!checked.ok) return { problems: [`amtool check-config: ${summarize(checked.output)}`], notes: [] };
    const problems: string[] = [];
    for (const { labels, receivers } of expectedRoutes(cluster)) {
      const routed = run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels], dir);
      const got = routed.output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('Warning:')).pop() ?? '';
      if (got !== receivers) problems.push(`an alert with ${labels.join(' ')} goes to [${got}], expected [${receivers}]`);
    }
    return { problems, notes: problems.length ? [] : ['amtool: configuration valid, warnings and critical alerts reach the receivers the cluster file names'] };
  });
}

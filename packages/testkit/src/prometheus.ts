import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startProgram, statusOf, waitUntil, type Program } from './kube/process.ts';
import { programPath } from './programs.ts';
import { freePort } from './services.ts';
import { scratchDir } from './workspace.ts';

/**
 * The pinned Prometheus (built from its module, no web UI) on a configuration the test gives, on loopback with
 * its own data folder, and a client for its HTTP API.
 */

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  url: string;
  program: Program;
  /** An instant query's vector result. */
  query(promql: string): Promise<Sample[]>;
  stop(): Promise<void>;
}

/** Starts Prometheus on `config` (its `localhost:PORT` placeholder becomes its own address). */
export async function startPrometheus(config: Record<string, unknown>, options: { dir?: string } = {}): Promise<RunningPrometheus> {
  const dir = options.dir ?? scratchDir('gw-prometheus-');
  const port = await freePort();
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(config, { lineWidth: 0 }).replaceAll('localhost:PORT', `127.0.0.1:${port}`));
  const url = `http://127.0.0.1:${port}`;
  const program = startProgram('prometheus', programPath('prometheus'), [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], join(dir, 'prometheus.log'));
  await waitUntil('Prometheus to be ready', program, 60_000, async () => (await statusOf(`${url}/-/ready`)) === 200, 250);
  return {
    url,
    program,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
      return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    stop: () => program.stop(),
  };
}

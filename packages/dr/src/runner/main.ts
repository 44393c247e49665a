import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDrill, judgeDrill, terminationMessage } from './drill.ts';
import { fetchBackup, listBackups } from './fetch.ts';
import { checkEtcdSnapshot } from './integrity.ts';
import { isKind, type Kind } from './naming.ts';
import { ENV, settingsFromEnv, targetsOf } from './settings.ts';
import { storeBackup } from './store.ts';
import { etcdSnapshot, readTalosconfig } from './talos.ts';

/**
 * The program the dr layer's Jobs run (bundled into one file in the runner ConfigMap and started with the
 * node image's `node`). Everything it needs comes from the environment the rendered Job sets.
 */

const HELP = `groundwork dr runner: backups and restores inside the cluster.

Usage: node runner.mjs <command> [arguments]

Commands:
  etcd                         snapshot etcd through the Talos API (talosconfig in $TALOSCONFIG), check it, store it
  store <kind> <path>          check, encrypt and store a backup (kind: postgres, n8n; for n8n a folder of exports)
  fetch <kind> <out> [--at=T]  download, decrypt and check a backup (latest, or the newest at or before T)
  list <kind>                  the stored backups of a kind, newest first
  drill-report <dump>          judge a restore drill from what postgres-drill.sh left next to <dump>

Environment: ${Object.values(ENV).join(', ')}.
Exit status 1 on any failure, so the Job fails and the alerts see it.
`;

const TERMINATION_LOG = '/dev/termination-log';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function kindArgument(text: string | undefined): Kind {
  if (!text || !isKind(text)) throw new Error(`expected a kind (etcd, postgres or n8n), got ${text ?? 'nothing'}`);
  return text;
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { at: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  const settings = settingsFromEnv(env);
  switch (command) {
    case 'etcd': {
      const endpoint = readTalosconfig(env[ENV.talosconfig] ?? '/var/run/secrets/talos.dev/config');
      const file = join(settings.work, 'etcd.snapshot');
      log(`taking an etcd snapshot through the Talos API at ${endpoint.host}:${endpoint.port}`);
      const bytes = await etcdSnapshot(endpoint, file);
      log(`received ${bytes} bytes`);
      await checkEtcdSnapshot(file);
      const report = await storeBackup(settings, 'etcd', file, log);
      log(`done: ${report.file}`);
      return 0;
    }
    case 'store': {
      const kind = kindArgument(rest[0]);
      if (!rest[1]) throw new Error('store: give the path of the backup');
      const report = await storeBackup(settings, kind, rest[1], log);
      log(`done: ${report.file}`);
      return 0;
    }
    case 'fetch': {
      const kind = kindArgument(rest[0]);
      if (!rest[1]) throw new Error('fetch: give where to write the backup');
      const from = values.from === 's3' || values.from === 'volume' ? values.from : undefined;
      const fetched = await fetchBackup(settings, kind, rest[1], { ...(values.at ? { at: values.at } : {}), ...(from ? { from } : {}) });
      log(`fetched ${fetched.file} from ${fetched.target}: ${fetched.check}`);
      return 0;
    }
    case 'list': {
      const kind = kindArgument(rest[0]);
      for (const target of targetsOf(settings)) {
        for (const backup of await listBackups(settings, target, kind)) process.stdout.write(`${target.label}\t${backup.file}\t${backup.size}\n`);
      }
      return 0;
    }
    case 'drill-report': {
      if (!rest[0]) throw new Error('drill-report: give the path of the fetched dump');
      const report = judgeDrill(settings.work, rest[0], {
        allowedAgeSeconds: Number(env[ENV.allowedAge] ?? 2 * 86_400 + 3600),
        requiredTables: (env[ENV.requiredTables] ?? '').split(',').filter(Boolean),
      });
      process.stdout.write(formatDrill(report));
      // In a pod the kubelet provides the file and keeps its content in the pod's status.
      if (existsSync(TERMINATION_LOG)) writeFileSync(TERMINATION_LOG, terminationMessage(report));
      return report.ok ? 0 : 1;
    }
    default:
      throw new Error(`unknown command "${command}" (see --help)`);
  }
}

export async function runnerMain(argv: string[] = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await run(argv);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

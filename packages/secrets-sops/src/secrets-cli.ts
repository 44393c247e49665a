#!/usr/bin/env -S npx node
/**
 * gw-secrets: a cluster's secrets as a whole. Keys for new clusters, the generated .sops.yaml rules, the
 * Secrets layers declare, and values only a person can provide.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProblemList, UserError, createLogger, findWorkspaceRoot, listClusters, runCommand } from '@groundwork/kit';
import { loadCluster } from '@groundwork/cluster';
import { applicableSecrets, discoverDeclarations, isCopy, valueOrigin } from './cluster/declarations.ts';
import { createMissingSecrets, inspectManifest, clusterSecretFiles, manifestPath, missingSecrets, setSecretValue } from './cluster/manifests.ts';
import { loadRepoSopsConfig, syncSopsConfig } from './cluster/sops-rules.ts';
import { clusterKeyServices } from './cluster/identity.ts';
import { initClusterKey, rekeyCluster } from './cluster/keys.ts';

const log = createLogger('gw-secrets');

const spec = {
  usage: 'gw-secrets <command> [--cluster=NAME] [args]',
  summary: 'Manage a cluster\'s SOPS secrets: keys, .sops.yaml rules, declared and provided secrets.',
  details: [
    'Commands:',
    '  status  --cluster=NAME                 every declared secret and key: present or missing (no key needed)',
    '  create  --cluster=NAME                 create missing generated secrets; never overwrites a value',
    '  set     --cluster=NAME NS/SECRET KEY   set one value, read from stdin (or --value-file=FILE)',
    '  init    --cluster=NAME [--x25519]      new age key for a cluster without one (post-quantum by default)',
    '  rekey   --cluster=NAME [--x25519]      replace the cluster key (e.g. a copied example key) and re-encrypt',
    '  sync-config                            regenerate the groundwork rules in .sops.yaml from the cluster files',
    '',
    'Values never come from the command line (they would show in process listings and shell history).',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'The cluster to work on.' },
    'value-file': { type: 'string', valueName: 'FILE', description: 'set: read the value from FILE instead of stdin.' },
    x25519: { type: 'boolean', description: 'init/rekey: an X25519 key instead of a post-quantum hybrid one.' },
    'replace-key': { type: 'boolean', description: 'rekey: replace a real (non-example) key; the old one is kept as age.key.old-<date>.' },
  },
  positionals: { name: 'COMMAND [ARGS]', description: 'status, create, set, init, rekey or sync-config', min: 1, max: 3 },
} as const;

function needCluster(value: string | undefined): string {
  if (!value || value === '*') throw new UserError('name the cluster with --cluster=<name>', { exitCode: 2 });
  return value;
}

export function main(argv: string[]): Promise<number> {
  return runCommand(
    spec,
    async ({ options, positionals }) => {
      const root = findWorkspaceRoot();
      const [command, ...args] = positionals;
      const kind = options.x25519 ? 'x25519' : 'hybrid';
      if (command === 'sync-config') {
        const { path, changed } = syncSopsConfig(root, listClusters(root).map((name) => loadCluster(root, name)));
        log.ok(`${path}: ${changed ? 'updated' : 'already up to date'}`);
        return 0;
      }
      const name = needCluster(options.cluster);
      if (command === 'init') {
        const recipient = await initClusterKey(root, name, kind);
        log.ok(`clusters/${name}/age.key created (0600, git-ignored); recipient ${recipient.slice(0, 24)}… added to cluster.yaml and .sops.yaml`);
        log.info('back the key up outside this repository: without it the secrets cannot be decrypted');
        return 0;
      }
      if (command === 'rekey') {
        const report = await rekeyCluster(root, name, kind, { replaceKey: options['replace-key'] ?? false });
        log.ok(`clusters/${name}/age.key replaced; ${report.rotated.length} secret file(s) re-encrypted with new data keys`);
        if (report.kept) log.warn(`the old key is kept in ${report.kept} (0600, git-ignored): backups made before now open only with it; delete it once they have expired`);
        if (report.untracked) log.warn(`the old key file was tracked by Git and is now removed from the index: commit that removal`);
        if (report.exposed) {
          log.warn(`the old values were readable with a public example key: ${report.regenerated.length} generated value(s) made anew`);
          for (const item of report.toReplace) log.warn(`set anew (it is public): gw-secrets set --cluster=${name} ${item} < value-file`);
          if (existsSync(join(root, 'clusters', name, 'talos', 'secrets.sops.yaml'))) log.warn(`the Talos bundle is the example's too: rm clusters/${name}/talos/*.sops.yaml && gw-talos init --cluster=${name}`);
        }
        return 0;
      }
      const cluster = loadCluster(root, name);
      const declared = applicableSecrets(await discoverDeclarations(root), cluster.config);
      if (command === 'status') {
        for (const secret of declared) {
          const path = manifestPath(name, secret.namespace, secret.name);
          process.stdout.write(`${secret.namespace}/${secret.name} (${secret.layer}): ${secret.description}\n`);
          const present = new Set(clusterSecretFiles(root, name).includes(path) ? inspectManifest(root, path).keys : []);
          for (const [key, keySpec] of Object.entries(secret.keys)) {
            process.stdout.write(`  ${present.has(key) ? '✓' : '✗'} ${key} (${valueOrigin(keySpec)})\n`);
          }
        }
        const missing = missingSecrets(root, cluster, declared);
        process.stdout.write(missing.length ? `${missing.length} value(s) missing\n` : 'all declared secrets are present\n');
        return missing.length ? 1 : 0;
      }
      const services = await clusterKeyServices(cluster);
      const config = loadRepoSopsConfig(root);
      if (command === 'create') {
        const report = await createMissingSecrets(root, cluster, declared, services, config);
        for (const path of report.created) log.ok(`created ${path}`);
        for (const path of report.completed) log.ok(`added missing keys to ${path}`);
        for (const path of report.refreshed) log.ok(`copied changed values into ${path}`);
        const stillMissing = missingSecrets(root, cluster, declared);
        if (stillMissing.length) throw new ProblemList('values only a person can provide are still missing:', [...stillMissing, ...report.waiting.map((w) => `${w}: run create again once it is set`)]);
        log.ok(`${name}: every declared secret is present`);
        return 0;
      }
      if (command === 'set') {
        if (args.length !== 2) throw new UserError('usage: gw-secrets set --cluster=NAME NAMESPACE/SECRET KEY < value', { exitCode: 2 });
        const [ref, key] = args as [string, string];
        const secret = declared.find((s) => `${s.namespace}/${s.name}` === ref);
        if (!secret) throw new UserError(`${ref} is not a secret any layer declares for ${name}`, { hint: `declared: ${declared.map((s) => `${s.namespace}/${s.name}`).join(', ') || 'none'}` });
        if (!(key in secret.keys)) throw new UserError(`${ref} has no key ${key}`, { hint: `keys: ${Object.keys(secret.keys).join(', ')}` });
        const keySpec = secret.keys[key]!;
        if (isCopy(keySpec)) throw new UserError(`${ref} ${key} is a ${valueOrigin(keySpec)}: set that one, then run gw-secrets create --cluster=${name}`, { exitCode: 2 });
        if (!options['value-file'] && process.stdin.isTTY) log.info('reading the value from stdin; end it with Ctrl-D');
        const value = readFileSync(options['value-file'] ?? 0, 'utf8').replace(/\r?\n$/, '');
        if (value === '') throw new UserError('refusing to store an empty value', { exitCode: 2 });
        const result = await setSecretValue(root, cluster, secret, key, value, services, config);
        log.ok(`${result} ${manifestPath(name, secret.namespace, secret.name)}: ${key} set`);
        // A copy of this value elsewhere (the bucket key for an app's volume archives) follows it at once.
        const copied = declared.some((s) => Object.values(s.keys).some((spec) => isCopy(spec) && spec.copyOf.namespace === secret.namespace && spec.copyOf.name === secret.name && spec.copyOf.key === key));
        if (copied) {
          const report = await createMissingSecrets(root, cluster, declared, services, config);
          for (const path of [...report.created, ...report.completed, ...report.refreshed]) log.ok(`copied the new value into ${path}`);
        }
        return 0;
      }
      throw new UserError(`unknown command "${command}"`, { exitCode: 2, hint: 'run gw-secrets --help' });
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

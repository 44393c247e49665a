#!/usr/bin/env -S npx node
/**
 * gw-talos: a cluster's Talos secrets and nodes. The secrets bundle is created once, explicitly (generate
 * never creates secrets), and can travel to talosctl and back in its secrets.yaml form.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, ProblemList, UserError, createLogger, findWorkspaceRoot, runCommand, writeFileAtomic } from '@groundwork/kit';
import { loadCluster } from '@groundwork/cluster';
import { assertNoExampleKey, clusterKeyServices } from '@groundwork/secrets-sops';
import { bundleFromYaml, bundleToYaml, createAdminClient, generateBundle } from './bundle/bundle.ts';
import { bundlePath, clientPath, hasBundle, readBundle, writeBundle, writeClient } from './bundle/store.ts';
import { checkBundle } from './pki/inspect.ts';
import { bootMedia } from './cluster-render.ts';
import { factoryUrl, registerSchematics, schematicsNeeded } from './factory/schematics.ts';
import { applyMode, applyTalos } from './layer.ts';
import { nodeCommand, resetAll, upgradeKubernetes, upgradeTalos, type NodeAction } from './day2/commands.ts';
import { reapplyLayers } from './day2/reapply.ts';
import { dockerCommand } from './docker/docker-cli.ts';

const log = createLogger('gw-talos');

const spec = {
  usage: 'gw-talos <command> --cluster=NAME [options]',
  summary: 'Create and manage a cluster\'s Talos secrets, and apply its configs.',
  details: [
    'Commands:',
    '  init           create the secrets bundle and the talosconfig client (once; never overwrites)',
    '  rotate-client  issue a new talosconfig admin certificate (one year)',
    '  import         take a talosctl secrets.yaml (--from=FILE) as the cluster\'s bundle',
    '  export         write the bundle as talosctl secrets.yaml (stdout, or --output=FILE with mode 0600)',
    '  boot-media     what to flash or boot on each node (Image Factory URLs)',
    '  schematics     register the nodes\' Image Factory schematics (apply does it too) and remember them',
    '  apply          like `nx run talos-config:apply`, with --mode and --dry-run',
    '  upgrade        upgrade Talos (versions.talos, node extensions) one node at a time: control planes first,',
    '                 each only while etcd keeps a quorum without it, drained and awaited; resumable',
    '  upgrade-k8s    upgrade Kubernetes (versions.kubernetes) as talosctl upgrade-k8s: pre-checks, control-plane',
    '                 components node by node, then kubelets, then the layers re-applied (--skip-layers: not)',
    '  node remove NODE   drain (PodDisruptionBudgets), leave etcd, reset and delete a healthy node',
    '  node forget NODE   for a failed node: remove its etcd member through a healthy control plane, delete its Node',
    '  node join NODE|*   after apply configured a node (* every node): wait until it is Ready (and an etcd member)',
    '  reset --all --yes  wipe every node back to maintenance mode (the destroy step of gw-rebuild)',
    '  docker up|down|status   Talos in Docker through the Docker Engine API (DOCKER_HOST): network, containers,',
    '                 then the normal apply and bootstrap; down keeps configs (--forget: the kubeconfig too)',
    '',
    'Exit codes: 0 done, 1 problems, 2 usage, 5 a node does not answer, 6 refused as unsafe now (etcd quorum,',
    'a PodDisruptionBudget, an unsupported upgrade path, objects in removed APIs). Every line of --dry-run says so.',
  ].join('\n'),
  options: {
    cluster: { type: 'string', valueName: 'NAME', description: 'The cluster.' },
    from: { type: 'string', valueName: 'FILE', description: 'import: a talosctl secrets.yaml.' },
    output: { type: 'string', valueName: 'FILE', description: 'export: write here (mode 0600) instead of stdout.' },
    mode: { type: 'string', valueName: 'MODE', description: 'apply: auto, no-reboot, reboot, staged or try (default auto).' },
    'dry-run': { type: 'boolean', description: 'apply, schematics, upgrade, upgrade-k8s, node: print the plan, change nothing.' },
    force: { type: 'boolean', description: 'upgrade, node remove: go on although etcd cannot keep a quorum; node forget: forget a node that still answers.' },
    'skip-layers': { type: 'boolean', description: 'upgrade-k8s: do not re-apply the Kubernetes layers afterwards.' },
    json: { type: 'boolean', description: 'docker status: print JSON.' },
    all: { type: 'boolean', description: 'reset: every node of the cluster (required: reset has no per-node form; use node remove).' },
    yes: { type: 'boolean', description: 'reset: confirm wiping every node.' },
    forget: { type: 'boolean', description: 'docker down: also delete the kubeconfig.' },
    maintenance: { type: 'string', valueName: 'NODE=IP,…', description: 'apply: where fresh machines answer in maintenance mode (their DHCP addresses).' },
  },
  positionals: { name: 'COMMAND [SUB] [NODE]', description: 'init, rotate-client, import, export, boot-media, schematics, apply, upgrade, upgrade-k8s, node, reset or docker', min: 1, max: 3 },
} as const;

export function main(argv: string[]): Promise<number> {
  return runCommand(
    spec,
    async ({ options, positionals }) => {
      const command = positionals[0];
      if (!options.cluster || options.cluster === '*') throw new UserError('name the cluster with --cluster=<name>', { exitCode: 2 });
      const root = findWorkspaceRoot();
      const cluster = loadCluster(root, options.cluster);
      if (command === 'boot-media') {
        process.stdout.write(bootMedia(cluster));
        return 0;
      }
      if (command === 'schematics') {
        const factory = factoryUrl(process.env);
        const outcome = await registerSchematics(cluster, { factory, dryRun: options['dry-run'] ?? false, log });
        if (outcome.problems.length) throw new ProblemList(`registering ${cluster.name}'s schematics failed:`, outcome.problems);
        log.ok(`${cluster.name}: ${outcome.registered.length} schematic(s) registered, ${schematicsNeeded(cluster).length - outcome.registered.length} already known to ${factory}`);
        return 0;
      }
      const services = await clusterKeyServices(cluster);
      if (command === 'init' || command === 'import') {
        if (hasBundle(root, cluster)) throw new UserError(`${bundlePath(cluster.name)} already exists; a cluster's secrets are created once`);
        let bundle;
        if (command === 'import') {
          if (!options.from) throw new UserError('import needs --from=<talosctl secrets.yaml>', { exitCode: 2 });
          bundle = bundleFromYaml(readFileSync(options.from, 'utf8'));
          const report = checkBundle(bundle);
          if (report.problems.length) throw new ProblemList(`${options.from} is not a usable Talos secrets bundle:`, report.problems);
        } else {
          bundle = await log.progress('generating the secrets bundle (RSA-4096 takes a moment)', async () => generateBundle());
        }
        await writeBundle(root, cluster, bundle, services);
        log.ok(`${bundlePath(cluster.name)} written (SOPS-encrypted)`);
        if (!existsSync(join(root, clientPath(cluster.name)))) {
          await writeClient(root, cluster, createAdminClient(bundle), services);
          log.ok(`${clientPath(cluster.name)} written: the talosconfig admin certificate, valid one year`);
        }
        return 0;
      }
      if (command === 'rotate-client') {
        const bundle = await readBundle(root, cluster, services);
        await writeClient(root, cluster, createAdminClient(bundle), services);
        log.ok(`${clientPath(cluster.name)}: new admin certificate, valid one year; run generate to refresh the talosconfig`);
        return 0;
      }
      if (command === 'export') {
        const text = bundleToYaml(await readBundle(root, cluster, services));
        if (options.output) writeFileAtomic(options.output, text, { mode: PRIVATE_FILE_MODE });
        else process.stdout.write(text);
        return 0;
      }
      if (command === 'apply') {
        await assertNoExampleKey(root, cluster);
        const outcome = await applyTalos(root, cluster, { mode: applyMode(options.mode), dryRun: options['dry-run'] ?? false, env: process.env, ...(options.maintenance ? { maintenance: options.maintenance } : {}) });
        if (outcome.problems.length) throw new ProblemList(`apply of ${cluster.name} failed:`, outcome.problems, { exitCode: outcome.exitCode ?? 1 });
        log.ok(`${cluster.name}: ${outcome.summary}`);
        return 0;
      }
      if (command === 'docker') {
        const sub = positionals[1];
        if (sub !== 'up' && sub !== 'down' && sub !== 'status') throw new UserError('usage: gw-talos docker up|down|status --cluster=NAME', { exitCode: 2 });
        return dockerCommand(sub, root, cluster, { dryRun: options['dry-run'] ?? false, json: options.json ?? false, forget: options.forget ?? false, mode: applyMode(options.mode), env: process.env }, createLogger(`gw-talos docker ${sub}`, process.stderr, { dryRun: options['dry-run'] ?? false }));
      }
      const day2 = { dryRun: options['dry-run'] ?? false, force: options.force ?? false, env: process.env };
      let outcome;
      if (command === 'upgrade') outcome = await upgradeTalos(root, cluster, day2);
      else if (command === 'upgrade-k8s') outcome = await upgradeKubernetes(root, cluster, { ...day2, ...(options['skip-layers'] || day2.dryRun ? {} : { reapplyLayers: () => reapplyLayers(root, cluster.name) }) });
      else if (command === 'reset') {
        if (!options.all) throw new UserError('reset wipes every node: say so with --all (one node: gw-talos node remove)', { exitCode: 2 });
        if (!options.yes && !day2.dryRun) throw new UserError(`reset --all wipes every node of ${cluster.name}: add --yes to confirm, or --dry-run to see the plan`, { exitCode: 2 });
        outcome = await resetAll(root, cluster, day2);
      } else if (command === 'node') {
        const [action, name] = positionals.slice(1);
        if (!['remove', 'forget', 'join'].includes(action ?? '') || !name) throw new UserError('usage: gw-talos node remove|forget|join NODE --cluster=NAME', { exitCode: 2 });
        outcome = await nodeCommand(root, cluster, action as NodeAction, name, day2);
      } else throw new UserError(`unknown command "${command}"`, { exitCode: 2, hint: 'run gw-talos --help' });
      if (outcome.problems.length) throw new ProblemList(`${command} of ${cluster.name} failed:`, outcome.problems, { exitCode: outcome.exitCode ?? 1 });
      log.ok(`${cluster.name}: ${outcome.summary}`);
      return 0;
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env -S npx node
/**
 * Builds the real programs the tests run (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok)
 * from the Go modules under tools/go/ into a cache outside the repository, once per pinned version.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, formatDuration, runCommand } from '@groundwork/kit';
import { GO_FAMILIES, binCacheRoot, ensureFamily, familyDir, goVersion, pinnedVersion } from './programs.ts';

const log = createLogger('build-programs');

export function main(argv: string[]): Promise<number> {
  return runCommand(
    {
      usage: 'tsx packages/testkit/src/build-programs.ts [--check] [--force] [--only=FAMILY]',
      summary: 'Build the pinned upstream programs the tests run into the cache (reusing what is already built).',
      details: [
        'Each family is a Go module under tools/go/<family>/ that pins an upstream release; the binaries go to',
        '$GROUNDWORK_BIN_CACHE (default ~/.cache/groundwork/bin)/<family>-<version>-<hash>/, keyed by go.mod, go.sum,',
        'the Go version and the build flags, so a version bump builds anew and everything else is reused.',
        'Needs Go 1.26 or newer. A cold build of all families takes about 5 minutes on 2 cores.',
      ].join('\n'),
      options: {
        check: { type: 'boolean', description: 'Only report what is built and what is missing; build nothing.' },
        force: { type: 'boolean', description: 'Rebuild even when a complete build is cached.' },
        only: { type: 'string', valueName: 'FAMILY', description: `Build one family (${GO_FAMILIES.map((f) => f.family).join(', ')}).` },
      },
    },
    async ({ options }) => {
      const go = goVersion();
      const families = GO_FAMILIES.filter((f) => !options.only || f.family === options.only);
      if (families.length === 0) {
        log.warn(`no family named ${options.only}`);
        return 2;
      }
      let missing = 0;
      for (const family of families) {
        const dir = familyDir(family, go);
        if (options.force) rmSync(dir, { recursive: true, force: true });
        if (options.check) {
          const built = existsSync(join(dir, 'manifest.json'));
          if (!built) missing++;
          log.info(`${family.family} ${pinnedVersion(family)}: ${built ? `built in ${dir}` : 'missing'}`);
          continue;
        }
        const outcome = await log.progress(`${family.family} ${pinnedVersion(family)} (${Object.keys(family.programs).join(', ')}) with ${go}`, () => ensureFamily(family, log));
        log.ok(`${family.family}: ${outcome.buildMs ? `built in ${formatDuration(outcome.buildMs)}` : 'reused'} → ${outcome.dir}`);
      }
      if (!options.check) log.ok(`programs ready in ${binCacheRoot()}`);
      return missing ? 1 : 0;
    },
    argv,
  );
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/**
 * The runner's source (src/runner/, plain TypeScript) as the single JavaScript file the Jobs run with the
 * node image: no image of our own to build and pin, and the program a Job runs is in the rendered output
 * for review. The bundle is deterministic (same sources and versions, same bytes) and names the packages
 * it contains with their licences.
 */

const ENTRY = fileURLToPath(new URL('./runner/entry.ts', import.meta.url));

interface PackageInfo {
  name: string;
  version: string;
  license?: string;
}

/** The npm packages whose code ended up in the bundle, from esbuild's list of inputs. */
function bundledPackages(inputs: string[], root: string): PackageInfo[] {
  const found = new Map<string, PackageInfo>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (!match) continue;
    const manifest = JSON.parse(readFileSync(join(root, match[1]!, 'package.json'), 'utf8')) as PackageInfo;
    found.set(manifest.name, { name: manifest.name, version: manifest.version, ...(manifest.license ? { license: manifest.license } : {}) });
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

let cached: string | undefined;

/** runner.mjs, built once per process (synchronously: components are plain functions of the cluster file). */
export function runnerBundle(): string {
  if (cached !== undefined) return cached;
  const root = dirname(dirname(dirname(dirname(ENTRY))));
  const result = buildSync({
    entryPoints: [ENTRY],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const packages = bundledPackages(Object.keys(result.metafile.inputs), root);
  const banner = [
    '// groundwork dr runner: built by packages/dr/src/bundle.ts from packages/dr/src/runner/ (read the source there).',
    `// Bundled packages: ${packages.map((p) => `${p.name}@${p.version} (${p.license ?? 'see package'})`).join(', ')}.`,
    // CommonJS packages inside an ES module bundle still call require() for node's built-ins.
    "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  ].join('\n');
  cached = `${banner}\n${yamlSafe(result.outputFiles[0]!.text)}`;
  return cached;
}

/**
 * The bundle travels inside a YAML ConfigMap, and YAML may not carry control characters raw (kube-apiserver,
 * kubectl and Flux refuse such a file). esbuild's ASCII output escapes everything above 0x7E but leaves control
 * characters in string literals as they are (the yaml package keeps its sentinels in such strings). Where they
 * can occur (strings, templates, regular expressions), \xNN means the same character, so they are escaped.
 */
function yamlSafe(code: string): string {
  return code.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

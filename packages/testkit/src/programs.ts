import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError, formatDuration, type Logger } from '@groundwork/kit';

/**
 * The real programs the tests run, built from the Go modules under tools/go/ (one module per program family,
 * pinning the upstream version) into a cache outside the repository, and reused from there. Nothing built is
 * ever committed; `npm test` and .ci/run build what is missing first (tools/scripts/src/ensure-tools.ts).
 */

const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const GO_TOOLS_DIR = join(repoRoot, 'tools', 'go');

/** The oldest Go that builds every pinned module (their highest `go` line is 1.26.x). */
export const MINIMUM_GO = [1, 26] as const;

export interface GoFamily {
  /** The folder under tools/go/ holding the pinning go.mod. */
  family: string;
  /** The upstream module whose version the family pins (read from go.mod's require lines). */
  module: string;
  /** Binary name to main package. */
  programs: Record<string, string>;
  /** Version stamps upstream's release builds pass, from the pinned version. */
  ldflags?: (version: string) => string[];
  /** Build tags upstream's release builds use. */
  tags?: string[];
  /**
   * Files upstream's release build generates into the module before compiling, which its module zip lacks
   * (path in the module to content). The build then compiles a copy of the module with them, in a folder of
   * its own outside the repository, through a `replace` in a temporary copy of go.mod.
   */
  generated?: Record<string, string>;
}

const kubernetesStamps = (version: string): string[] => {
  const [major, minor] = version.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
};

/** What Prometheus-ecosystem release builds stamp (.promu.yml): `--version` then names the release. */
const prometheusStamps = (version: string): string[] => [`-X github.com/prometheus/common/version.Version=${version.replace(/^v/, '')}`, '-X github.com/prometheus/common/version.Branch=HEAD'];
/** Prometheus 3.x is tagged v0.3xy.z for Go modules (v0.314.0 is 3.14.0): the release it names. */
const releaseOfZeroMajor = (version: string): string => {
  const [, minor, patch] = /^v0\.(\d+)\.(\d+)/.exec(version) ?? [];
  return minor ? `${Math.floor(Number(minor) / 100)}.${Number(minor) % 100}.${patch}` : version;
};

export const GO_FAMILIES: readonly GoFamily[] = [
  {
    family: 'kubernetes',
    module: 'k8s.io/kubernetes',
    programs: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
      kubectl: 'k8s.io/kubernetes/cmd/kubectl',
    },
    ldflags: kubernetesStamps,
  },
  // The control plane one minor release back, for the Kubernetes upgrade test (kubernetesProgram picks by version).
  {
    family: 'kubernetes-previous',
    module: 'k8s.io/kubernetes',
    programs: {
      'previous-kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'previous-kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'previous-kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    },
    ldflags: kubernetesStamps,
  },
  { family: 'etcd', module: 'go.etcd.io/etcd/server/v3', programs: { etcd: 'go.etcd.io/etcd/server/v3' } },
  { family: 'kwok', module: 'sigs.k8s.io/kwok', programs: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' } },
  { family: 'local-path', module: 'github.com/rancher/local-path-provisioner', programs: { 'local-path-provisioner': 'github.com/rancher/local-path-provisioner' } },
  // The example apps of clusters/pi-fleet/apps/ (tools/go/caddy, miniflux), run on their rendered configuration.
  { family: 'caddy', module: 'github.com/caddyserver/caddy/v2', programs: { caddy: 'github.com/caddyserver/caddy/v2/cmd/caddy' } },
  { family: 'miniflux', module: 'miniflux.app/v2', programs: { miniflux: 'miniflux.app/v2' }, ldflags: (version) => [`-X miniflux.app/v2/internal/version.Version=${version.replace(/^v/, '')}`] },
  {
    family: 'metrics-server',
    module: 'sigs.k8s.io/metrics-server',
    programs: { 'metrics-server': 'sigs.k8s.io/metrics-server/cmd/metrics-server' },
    ldflags: (version) => [`-X k8s.io/client-go/pkg/version.gitVersion=${version}`],
  },
  // Traefik's own Ingress provider and router under a small main of ours: its full binary cannot be built from
  // the module proxy (tools/go/traefik/ingress-router/main.go says why).
  // kubectl's and Flux's YAML reader under a small main of ours, for the rendered-files check.
  { family: 'yaml-reader', module: 'k8s.io/apimachinery', programs: { 'yaml-reader': 'groundwork.dev/tools/yaml-reader' } },
  { family: 'traefik', module: 'github.com/traefik/traefik/v3', programs: { 'traefik-ingress-router': 'groundwork.dev/tools/traefik/ingress-router' } },
  // The observability programs (tools/go/prometheus, alertmanager, kube-state-metrics, node-exporter).
  { family: 'prometheus', module: 'github.com/prometheus/prometheus', programs: { prometheus: 'github.com/prometheus/prometheus/cmd/prometheus', promtool: 'github.com/prometheus/prometheus/cmd/promtool' }, ldflags: (v) => prometheusStamps(releaseOfZeroMajor(v)), tags: ['netgo', 'remove_all_sd', 'enable_kubernetes_sd'] },
  {
    family: 'alertmanager',
    module: 'github.com/prometheus/alertmanager',
    programs: { alertmanager: 'github.com/prometheus/alertmanager/cmd/alertmanager', amtool: 'github.com/prometheus/alertmanager/cmd/amtool' },
    ldflags: prometheusStamps,
    // Its web UI is built with npm into ui/app/dist, which the module does not ship; the API does not need it.
    generated: { 'ui/app/dist/index.html': '<!doctype html><title>Alertmanager</title><p>Built without its web UI; the API is at /api/v2.\n' },
  },
  { family: 'kube-state-metrics', module: 'k8s.io/kube-state-metrics/v2', programs: { 'kube-state-metrics': 'k8s.io/kube-state-metrics/v2' }, ldflags: prometheusStamps },
  { family: 'node-exporter', module: 'github.com/prometheus/node_exporter', programs: { node_exporter: 'github.com/prometheus/node_exporter' }, ldflags: prometheusStamps, tags: ['netgo'] },
  // The log store and the log shipper (tools/go/victorialogs, otelcol): VictoriaLogs' own binary, and the
  // collector's components under a small main of ours (tools/go/otelcol/collector/main.go says why).
  {
    family: 'victorialogs',
    module: 'github.com/VictoriaMetrics/VictoriaLogs',
    programs: { 'victoria-logs': 'github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs' },
    ldflags: (v) => [`-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-${v}`],
  },
  { family: 'otelcol', module: 'go.opentelemetry.io/collector/otelcol', programs: { otelcol: 'groundwork.dev/tools/otelcol/collector' }, ldflags: (v) => [`-X main.version=${v.replace(/^v/, '')}`], tags: ['grpcnotrace'] },
  // Talos's machine-config code under a small main of ours (tools/go/talos/check/main.go): load, validate, generate,
  // patch; and the Image Factory's schematic API as a stand-in (tools/go/talos/factory/main.go).
  { family: 'talos', module: 'github.com/siderolabs/talos/pkg/machinery', programs: { 'talos-check': 'groundwork.dev/tools/talos/check', 'image-factory-standin': 'groundwork.dev/tools/talos/factory' } },
  // The sops CLI, to check our SOPS files against the real one both ways (tools/go/sops).
  { family: 'sops', module: 'github.com/getsops/sops/v3', programs: { sops: 'github.com/getsops/sops/v3/cmd/sops' } },
  // The generic operator (images/operator: the binary picks its default IPAM mode from its own name).
  { family: 'cilium', module: 'github.com/cilium/cilium', programs: { 'cilium-operator-generic': 'github.com/cilium/cilium/operator' }, tags: ['osusergo', 'ipam_provider_operator'] },
];

/**
 * The environment when the tests started: tests run code with an isolated HOME (runIn), and the programs must
 * still be found where the build put them.
 */
const STARTUP_ENV: NodeJS.ProcessEnv = { ...process.env };
const STARTUP_HOME = homedir();

/** GROUNDWORK_BIN_CACHE, else $XDG_CACHE_HOME/groundwork/bin, else ~/.cache/groundwork/bin. */
export function binCacheRoot(env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  return env.GROUNDWORK_BIN_CACHE ?? join(env.XDG_CACHE_HOME ?? join(env === STARTUP_ENV ? STARTUP_HOME : (env.HOME ?? STARTUP_HOME), '.cache'), 'groundwork', 'bin');
}

/** The version a family's go.mod pins for its upstream module. */
export function pinnedVersion(family: GoFamily): string {
  const goMod = readFileSync(join(GO_TOOLS_DIR, family.family, 'go.mod'), 'utf8');
  const escaped = family.module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match) throw new UserError(`tools/go/${family.family}/go.mod: no require line for ${family.module}`);
  return match[1]!;
}

function goEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // A higher `go` requirement must fail loudly rather than fetch a toolchain, unless one was chosen on purpose.
  return { ...env, GOTOOLCHAIN: env.GOTOOLCHAIN || 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };
}

/** The Go toolchain's version, or a clear error saying what to install. */
export function goVersion(env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  const result = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: goEnv(env) });
  if (result.error || result.status !== 0) {
    throw new UserError(
      `the tests run a real Kubernetes control plane built from Go modules, and Go was not found (${result.error?.message ?? result.stderr.trim()})`,
      { hint: `install Go ${MINIMUM_GO.join('.')} or newer (https://go.dev/doc/install; Debian's golang-go is too old), then run: npx tsx packages/testkit/src/build-programs.ts` },
    );
  }
  const version = result.stdout.trim();
  const match = /^go(\d+)\.(\d+)/.exec(version);
  if (!match || Number(match[1]) < MINIMUM_GO[0] || (Number(match[1]) === MINIMUM_GO[0] && Number(match[2]) < MINIMUM_GO[1])) {
    throw new UserError(`Go ${version} is too old: the pinned modules need Go ${MINIMUM_GO.join('.')} or newer`, { hint: 'install a newer Go (https://go.dev/doc/install), or export GOTOOLCHAIN=go1.27.3 to let the go command fetch one' });
  }
  return version;
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(dir, join(prefix, entry.name)) : [join(prefix, entry.name)]));
}

/** Where a family's build lives: keyed by everything that changes the binaries. */
export function familyDir(family: GoFamily, go: string, env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  const dir = join(GO_TOOLS_DIR, family.family);
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum']) hash.update(readFileSync(join(dir, file)));
  // Any Go source of ours beside them (a main, a stand-in module).
  for (const file of filesUnder(dir).filter((f) => f !== 'go.mod' && f !== 'go.sum')) hash.update(`${file}\0`).update(readFileSync(join(dir, file)));
  hash.update(JSON.stringify({ go, programs: family.programs, ldflags: family.ldflags?.(pinnedVersion(family)) ?? [], tags: family.tags ?? [], ...(family.generated ? { generated: family.generated } : {}), arch: process.arch }));
  return join(binCacheRoot(env), `${family.family}-${pinnedVersion(family)}-${hash.digest('hex').slice(0, 12)}`);
}

interface Manifest {
  version: string;
  go: string;
  /** How long the build took, for the figures in the docs. */
  buildMs: number;
  /** The module's folder in the Go module cache (kwok's stage definitions live there). */
  moduleDir: string;
}

function readManifest(dir: string): Manifest | undefined {
  const file = join(dir, 'manifest.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Manifest) : undefined;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new UserError(`${command} ${args.slice(0, 2).join(' ')} in ${cwd} failed (exit ${code}):\n${err.trim().split('\n').slice(-15).join('\n')}`))));
  });
}

/** The file `go build -o dir/` writes for a main package: its last path element, skipping a /vN suffix. */
function goBinaryName(pkg: string): string {
  const parts = pkg.split('/');
  return /^v\d+$/.test(parts.at(-1)!) ? parts.at(-2)! : parts.at(-1)!;
}

export interface BuildOutcome {
  family: string;
  version: string;
  dir: string;
  /** 0 when a previous build was reused. */
  buildMs: number;
}

/** Builds one family unless its cached build is complete; the build goes to a temporary folder first. */
export async function ensureFamily(family: GoFamily, log: Logger, env: NodeJS.ProcessEnv = STARTUP_ENV): Promise<BuildOutcome> {
  const go = goVersion(env);
  const dir = familyDir(family, go, env);
  const version = pinnedVersion(family);
  if (readManifest(dir)) return { family: family.family, version, dir, buildMs: 0 };
  const cwd = join(GO_TOOLS_DIR, family.family);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const started = performance.now();
  const ticker = setInterval(() => log.info(`building ${family.family} ${version}: ${formatDuration(performance.now() - started)} so far`), 30_000);
  try {
    const ldflags = ['-s', '-w', ...(family.ldflags?.(version) ?? [])].join(' ');
    const modfile = family.generated ? await withGeneratedFiles(family, cwd, partial, env) : [];
    await run('go', ['build', '-trimpath', `-ldflags=${ldflags}`, ...(family.tags ? [`-tags=${family.tags.join(',')}`] : []), ...modfile, '-o', `${partial}/`, ...Object.values(family.programs)], cwd, goEnv(env));
    const moduleDir = JSON.parse(await run('go', ['list', '-m', '-json', family.module], cwd, goEnv(env))).Dir as string;
    for (const [binary, pkg] of Object.entries(family.programs)) {
      const built = join(partial, goBinaryName(pkg));
      if (built !== join(partial, binary)) renameSync(built, join(partial, binary));
    }
    const buildMs = performance.now() - started;
    writeFileSync(join(partial, 'manifest.json'), `${JSON.stringify({ version, go, buildMs: Math.round(buildMs), moduleDir } satisfies Manifest, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    return { family: family.family, version, dir, buildMs };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  } finally {
    clearInterval(ticker);
    rmSync(`${partial}-src`, { recursive: true, force: true });
  }
}

/** A writable copy of the module with its generated files, and the `-modfile` flag that builds from it. */
async function withGeneratedFiles(family: GoFamily, cwd: string, partial: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const moduleDir = JSON.parse(await run('go', ['mod', 'download', '-json', `${family.module}@${pinnedVersion(family)}`], cwd, goEnv(env))).Dir as string;
  const work = `${partial}-src`;
  const source = join(work, 'module');
  mkdirSync(work, { recursive: true });
  // The module cache is read-only; the copy must not be.
  await run('cp', ['-R', '--no-preserve=mode,ownership', moduleDir, source], cwd, env);
  for (const [file, content] of Object.entries(family.generated ?? {})) {
    mkdirSync(dirname(join(source, file)), { recursive: true });
    writeFileSync(join(source, file), content);
  }
  writeFileSync(join(work, 'go.mod'), `${readFileSync(join(cwd, 'go.mod'), 'utf8')}\nreplace ${family.module} => ${source}\n`);
  writeFileSync(join(work, 'go.sum'), readFileSync(join(cwd, 'go.sum')));
  return [`-modfile=${join(work, 'go.mod')}`];
}

function familyOf(program: string): GoFamily {
  const family = GO_FAMILIES.find((f) => program in f.programs);
  if (!family) throw new Error(`no Go family builds ${program}`);
  return family;
}

const hint = 'build them first: npx tsx packages/testkit/src/build-programs.ts (npm test does this)';

/** The path of a built program, or a clear error saying how to build it. */
export function programPath(program: string, env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  const dir = familyDir(familyOf(program), goVersion(env), env);
  if (!readManifest(dir)) throw new UserError(`${program} is not built yet (expected in ${dir}): ${hint}`);
  return join(dir, program);
}

/**
 * The command-line tools that code under test finds on PATH (promtool, amtool, alertmanager, prometheus,
 * node_exporter, kube-state-metrics): the folders of their pinned builds, for the front of PATH. A family not
 * built yet is left out (the tests that check versions say so).
 */
export function pinnedToolDirs(env: NodeJS.ProcessEnv = STARTUP_ENV): string[] {
  return [...new Set(['promtool', 'amtool', 'node_exporter', 'kube-state-metrics'].flatMap((tool) => {
    try {
      return [dirname(programPath(tool, env))];
    } catch {
      return [];
    }
  }))];
}

/** The version a program was built at (the pinned upstream version). */
export function programVersion(program: string): string {
  return pinnedVersion(familyOf(program));
}

export type KubernetesComponent = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

/** The built control-plane program at exactly this Kubernetes version (the pinned one or the one before it). */
export function kubernetesProgram(component: KubernetesComponent, version: string, env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  const wanted = version.replace(/^v/, '');
  for (const program of [component, `previous-${component}`]) {
    if (programVersion(program).replace(/^v/, '') === wanted) return programPath(program, env);
  }
  throw new Error(`the tests build ${component} at ${programVersion(component)} and ${programVersion(`previous-${component}`)}, not ${version}: pin it in tools/go/kubernetes/go.mod (and its staging replaces)`);
}

/** The upstream module's folder in the Go module cache, e.g. for kwok's stage definitions. */
export function moduleDirOf(program: string, env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  const manifest = readManifest(familyDir(familyOf(program), goVersion(env), env));
  if (!manifest) throw new UserError(`${program} is not built yet: ${hint}`);
  if (!existsSync(manifest.moduleDir)) throw new UserError(`${program}'s module source is gone from the Go module cache (${manifest.moduleDir})`, { hint: 'run: go clean -cache is not enough; rebuild with packages/testkit/src/build-programs.ts --force' });
  return manifest.moduleDir;
}

/**
 * A Go module's folder at `version`, downloaded into the Go module cache when it is not there yet (used for
 * upstream files that are data, not programs: Cilium's CRDs at the version the rendered image pins).
 */
export function moduleSource(module: string, version: string, env: NodeJS.ProcessEnv = STARTUP_ENV): string {
  goVersion(env);
  const result = spawnSync('go', ['mod', 'download', '-json', `${module}@${version}`], { encoding: 'utf8', env: { ...goEnv(env), GOFLAGS: '-mod=mod' }, cwd: GO_TOOLS_DIR, timeout: 600_000 });
  const info = result.stdout ? (JSON.parse(result.stdout) as { Dir?: string; Error?: string }) : {};
  if (result.status !== 0 || !info.Dir) throw new UserError(`go mod download ${module}@${version} failed: ${info.Error ?? result.stderr.trim()}`);
  return info.Dir;
}

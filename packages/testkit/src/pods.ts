import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sandboxArgs, type Mount } from './sandbox.ts';

/**
 * A stand-in for the kubelet: runs a rendered pod's containers on this machine with real programs, the way
 * the pod would run them. Volumes become folders mounted at the rendered paths (emptyDir, ConfigMap and Secret
 * items with their modes, claims as folders the test gives), environment variables are resolved from the
 * rendered ConfigMaps and Secrets, `$(VAR)` references are expanded, each container runs as its user on a
 * read-only root, init containers one after the other, and a container's termination message is read back.
 * What an image provides (its programs, its user) comes from a `Runtime` the test maps each image to.
 */

type Obj = Record<string, any>;

export interface Runtime {
  /** Folders on PATH inside the container (after the mounts below are in place). */
  path: string[];
  /** Where the image's programs come from on this machine. */
  mounts?: Mount[];
  /** The image's own user, used when neither the pod nor the container names one. */
  user?: { uid: number; gid: number; name: string };
  /** Variables the image sets itself (ENV lines). */
  env?: Record<string, string>;
  /** The image's ENTRYPOINT: run when the container gives no command, with its args after it. */
  entrypoint?: string[];
}

export interface ContainerRun {
  name: string;
  init: boolean;
  code: number | null;
  log: string;
  terminationMessage: string;
  /** The environment the container got, after overrides (for assertions). */
  env: Record<string, string>;
}

export interface PodRunOptions {
  /** The pod spec (a Job's `spec.template.spec`). */
  pod: Obj;
  namespace: string;
  /** The rendered objects volumes and variables refer to (ConfigMaps, decrypted Secrets). */
  objects: Obj[];
  runtimeFor: (image: string) => Runtime;
  /** Folders standing in for PersistentVolumeClaims, by claim name. */
  claims?: Record<string, string>;
  /** The folder standing for the root of the node's filesystem, where hostPath volumes are found. */
  nodeRoot?: string;
  /**
   * Variables changed per container: only where things listen may differ on a test machine (hosts and
   * ports); everything else comes from the rendered pod unchanged.
   */
  overrides?: Record<string, Record<string, string>>;
  scratch: string;
  /** Names the pod resolves (Service names), to addresses on this machine. */
  hosts?: Record<string, string>;
  timeoutMs?: number;
  /** For a server's pod: its containers get SIGTERM when this aborts, as the kubelet sends when a pod is deleted. */
  signal?: AbortSignal;
}

export interface PodRun {
  phase: 'Succeeded' | 'Failed';
  containers: ContainerRun[];
}

function find(objects: Obj[], kind: string, namespace: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name && (o.metadata?.namespace ?? namespace) === namespace);
  if (!found) throw new Error(`the pod refers to ${kind} ${namespace}/${name}, which the test did not provide`);
  return found;
}

/** A Secret's or ConfigMap's values as text. */
function valuesOf(object: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  if (object.kind === 'Secret') {
    for (const [k, v] of Object.entries(object.data ?? {})) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
    for (const [k, v] of Object.entries(object.stringData ?? {})) out[k] = String(v);
  } else {
    Object.assign(out, object.data ?? {});
  }
  return out;
}

function volumeFolder(volume: Obj, options: PodRunOptions): { host: string; readOnly: boolean } {
  if (volume.emptyDir) {
    const dir = mkdtempSync(join(options.scratch, `${volume.name}-`));
    chmodSync(dir, 0o777);
    return { host: dir, readOnly: false };
  }
  if (volume.persistentVolumeClaim) {
    const dir = options.claims?.[volume.persistentVolumeClaim.claimName];
    if (!dir) throw new Error(`no folder given for claim ${volume.persistentVolumeClaim.claimName}`);
    return { host: dir, readOnly: !!volume.persistentVolumeClaim.readOnly };
  }
  if (volume.hostPath) {
    if (!options.nodeRoot) throw new Error(`volume ${volume.name}: a hostPath volume needs the node's folder (nodeRoot)`);
    const host = join(options.nodeRoot, volume.hostPath.path);
    // As the kubelet checks hostPath types: DirectoryOrCreate makes the folder (0755, root's), Directory needs it.
    if (volume.hostPath.type === 'DirectoryOrCreate') mkdirSync(host, { recursive: true, mode: 0o755 });
    else if (!existsSync(host)) throw new Error(`volume ${volume.name}: hostPath ${volume.hostPath.path} does not exist on the node`);
    return { host, readOnly: false };
  }
  const source = volume.configMap ?? volume.secret;
  if (!source) throw new Error(`volume ${volume.name}: only emptyDir, configMap, secret, hostPath and persistentVolumeClaim are supported here`);
  const kind = volume.configMap ? 'ConfigMap' : 'Secret';
  const values = valuesOf(find(options.objects, kind, options.namespace, source.name ?? source.secretName));
  const dir = mkdtempSync(join(options.scratch, `${volume.name}-`));
  chmodSync(dir, 0o755);
  // The kubelet gives the pod's fsGroup the volume's files, so modes like 0440 let the pod's users read them.
  const fsGroup = options.pod.securityContext?.fsGroup as number | undefined;
  const items: Array<{ key: string; path: string; mode?: number }> = source.items ?? Object.keys(values).map((key) => ({ key, path: key }));
  for (const item of items) {
    if (values[item.key] === undefined) throw new Error(`${kind} ${source.name ?? source.secretName} has no key ${item.key}`);
    const file = join(dir, item.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, values[item.key]!);
    chmodSync(file, item.mode ?? source.defaultMode ?? 0o644);
    if (fsGroup !== undefined) chownSync(file, 0, fsGroup);
  }
  return { host: dir, readOnly: true };
}

function resolveEnv(container: Obj, options: PodRunOptions, runtime: Runtime): Record<string, string> {
  const env: Record<string, string> = { ...runtime.env };
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    Object.assign(env, valuesOf(find(options.objects, from.secretRef ? 'Secret' : 'ConfigMap', options.namespace, ref.name)));
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined) env[name] = expand(value, env);
    else if (valueFrom?.secretKeyRef) env[name] = valuesOf(find(options.objects, 'Secret', options.namespace, valueFrom.secretKeyRef.name))[valueFrom.secretKeyRef.key] ?? '';
    else if (valueFrom?.configMapKeyRef) env[name] = valuesOf(find(options.objects, 'ConfigMap', options.namespace, valueFrom.configMapKeyRef.name))[valueFrom.configMapKeyRef.key] ?? '';
    else if (valueFrom?.fieldRef) env[name] = valueFrom.fieldRef.fieldPath === 'metadata.namespace' ? options.namespace : `test-${valueFrom.fieldRef.fieldPath}`;
  }
  // An override stands for the rendered value, so $(VAR) in it is expanded the same way.
  const overrides = Object.entries(options.overrides?.[container.name] ?? {}).map(([name, value]) => [name, expand(value, env)]);
  return { ...env, ...Object.fromEntries(overrides) };
}

/** `$(VAR)` as the kubelet expands it in command, args and values: `$$` is a literal `$`, unknown names stay. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (match === '$$' ? '$' : name !== undefined && name in env ? env[name]! : match));
}

/** What containerd gives a container unless its securityContext says otherwise (containerd's default spec). */
export const RUNTIME_DEFAULT_CAPABILITIES = ['audit_write', 'chown', 'dac_override', 'fowner', 'fsetid', 'kill', 'mknod', 'net_bind_service', 'net_raw', 'setfcap', 'setgid', 'setpcap', 'setuid', 'sys_chroot'];

/** The capabilities a container holds: the runtime's defaults, less what it drops, plus what it adds. */
export function containerCapabilities(security: Obj): string[] | undefined {
  if (security.privileged) return undefined;
  const name = (c: string) => c.toLowerCase().replace(/^cap_/, '');
  const drop = new Set<string>((security.capabilities?.drop ?? []).map(name));
  const kept = drop.has('all') ? [] : RUNTIME_DEFAULT_CAPABILITIES.filter((c) => !drop.has(c));
  return [...new Set([...kept, ...(security.capabilities?.add ?? []).map(name)])].sort();
}

function runContainer(container: Obj, init: boolean, folders: Map<string, { host: string; readOnly: boolean }>, options: PodRunOptions): Promise<ContainerRun> {
  const runtime = options.runtimeFor(container.image);
  const env = resolveEnv(container, options, runtime);
  const security = { ...options.pod.securityContext, ...container.securityContext };
  const uid = security.runAsUser ?? runtime.user?.uid ?? 0;
  const gid = security.runAsGroup ?? runtime.user?.gid ?? uid;
  const messageFile = join(mkdtempSync(join(options.scratch, `${container.name}-message-`)), 'termination-log');
  writeFileSync(messageFile, '');
  chmodSync(messageFile, 0o666);
  const mounts: Mount[] = [...(runtime.mounts ?? []), { host: messageFile, path: container.terminationMessagePath ?? '/dev/termination-log' }];
  for (const mount of container.volumeMounts ?? []) {
    const folder = folders.get(mount.name);
    if (!folder) throw new Error(`container ${container.name} mounts ${mount.name}, which the pod does not define`);
    const host = mount.subPath ? join(folder.host, mount.subPath) : folder.host;
    if (!existsSync(host)) mkdirSync(host, { recursive: true });
    mounts.push({ host, path: mount.mountPath, readOnly: folder.readOnly || !!mount.readOnly });
  }
  const argv = [...(container.command ?? runtime.entrypoint ?? []), ...(container.args ?? [])].map((a: string) => expand(a, env));
  if (argv.length === 0) throw new Error(`container ${container.name}: the pod gives no command, and runtimes here have no entrypoints`);
  const scratch = mkdtempSync(join(options.scratch, `${container.name}-etc-`));
  const fsGroup = options.pod.securityContext?.fsGroup as number | undefined;
  const sandbox = sandboxArgs({ mounts, scratch, ...(options.hosts ? { hosts: options.hosts } : {}), user: { uid, gid, name: runtime.user && runtime.user.uid === uid ? runtime.user.name : `uid${uid}`, groups: [gid, ...(fsGroup !== undefined && fsGroup !== gid ? [fsGroup] : [])] }, capabilities: containerCapabilities(security) });
  const childEnv = { HOME: '/', ...env, PATH: [...runtime.path, '/usr/local/bin', '/usr/bin', '/bin'].join(':') };
  const chdir = container.workingDir ? ['--chdir', container.workingDir] : [];
  return new Promise((resolve) => {
    const child = spawn('bwrap', [...chdir, ...sandbox, ...argv], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    // bwrap neither forwards signals nor takes its child down at once: the program itself gets the SIGTERM.
    const terminate = () => {
      for (const pid of [...descendants(child.pid), child.pid]) if (pid) signalProcess(pid, 'SIGTERM');
    };
    if (options.signal?.aborted) terminate();
    options.signal?.addEventListener('abort', terminate, { once: true });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', terminate);
      resolve({ name: container.name, init, code, log, terminationMessage: readFileSync(messageFile, 'utf8'), env });
    });
  });
}

/** The processes below `pid`, deepest first (from /proc, as ps would list them). */
function descendants(pid: number | undefined): number[] {
  if (!pid) return [];
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const walk = (p: number): number[] => (parents.get(p) ?? []).flatMap((c) => [...walk(c), c]);
  return walk(pid);
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs the pod to completion: init containers in order (stopping at the first failure), then the containers. */
export async function runPod(options: PodRunOptions): Promise<PodRun> {
  mkdirSync(options.scratch, { recursive: true });
  const folders = new Map<string, { host: string; readOnly: boolean }>();
  for (const volume of options.pod.volumes ?? []) folders.set(volume.name, volumeFolder(volume, options));
  const containers: ContainerRun[] = [];
  for (const [list, init] of [[options.pod.initContainers ?? [], true], [options.pod.containers ?? [], false]] as const) {
    for (const container of list) {
      const run = await runContainer(container, init, folders, options);
      containers.push(run);
      if (run.code !== 0) return { phase: 'Failed', containers };
    }
  }
  return { phase: 'Succeeded', containers };
}

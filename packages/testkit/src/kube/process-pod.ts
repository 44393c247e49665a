import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expand } from '../pods.ts';
import { scratchDir } from '../workspace.ts';
import type { KubeObject } from './client.ts';
import type { ControlPlane } from './control-plane.ts';
import { startProgram, type Program } from './process.ts';

/**
 * Runs the container of a rendered Deployment as a real program on this machine, the way its pod would run
 * it: the rendered command and arguments, its environment (values, ConfigMap keys, the pod's namespace), its
 * ConfigMap and Secret volumes as folders, and the Kubernetes identity of its ServiceAccount (a token from the
 * TokenRequest API, so the rendered RBAC decides what it may do). kwok keeps the Deployment's pods Running;
 * this process is what would run inside one. Only what cannot hold here changes, passed as `overrides`: where
 * it listens (loopback, free ports) and switches for things that do not exist here (Cilium's agents).
 */

export interface ProcessPodOptions {
  plane: ControlPlane;
  namespace: string;
  deployment: string;
  /** The program standing for the image's entrypoint (a binary built from the pinned module). */
  program: string;
  /** Flags added after the rendered ones (later flags win), each for a reason the caller documents. */
  overrides?: string[];
  /** How long to wait for the Deployment to be applied. */
  timeoutMs?: number;
}

export interface ProcessPod {
  program: Program;
  /** The rendered command line, with paths mapped to this machine (for assertions). */
  argv: string[];
  stop(): Promise<void>;
}

type Container = { name: string; command?: string[]; args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: Record<string, any> }>; volumeMounts?: Array<{ name: string; mountPath: string }> };
type PodSpec = { containers: Container[]; volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string } }>; serviceAccountName?: string };

/** A token for a ServiceAccount from the TokenRequest API, as the kubelet gets one for a pod. */
export async function serviceAccountToken(plane: ControlPlane, namespace: string, account: string): Promise<string> {
  const response = await plane.client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  if (response.status !== 201) throw new Error(`token for ServiceAccount ${namespace}/${account}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
  return response.json<{ status: { token: string } }>().status.token;
}

async function serviceAccountKubeconfig(plane: ControlPlane, namespace: string, account: string, dir: string): Promise<string> {
  const token = await serviceAccountToken(plane, namespace, account);
  const file = join(dir, 'kubeconfig');
  const ca = Buffer.from(plane.spec.ca.crt).toString('base64');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: { server: '${plane.url}', certificate-authority-data: ${ca} }\nusers:\n- name: u\n  user: { token: '${token}' }\ncontexts:\n- name: c\n  context: { cluster: c, user: u, namespace: ${namespace} }\ncurrent-context: c\n`,
    { mode: 0o600 },
  );
  return file;
}

export async function runDeploymentAsProcess(options: ProcessPodOptions): Promise<ProcessPod> {
  const { plane, namespace } = options;
  const deployment = await plane.client.waitFor(`Deployment ${namespace}/${options.deployment} to be applied`, () => plane.client.get('apps/v1', 'Deployment', options.deployment, namespace), options.timeoutMs ?? 120_000);
  const pod = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers[0]!;
  const dir = scratchDir(`gw-${options.deployment}-`);
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    const source: KubeObject | undefined = volume?.configMap
      ? await plane.client.get('v1', 'ConfigMap', volume.configMap.name, namespace)
      : volume?.secret
        ? await plane.client.get('v1', 'Secret', volume.secret.secretName, namespace)
        : undefined;
    if (!source) continue;
    const folder = join(dir, 'volumes', mount.name);
    mkdirSync(folder, { recursive: true });
    const secret = source.kind === 'Secret' || volume?.secret;
    for (const [key, value] of Object.entries((source.data ?? {}) as Record<string, string>)) writeFileSync(join(folder, key), secret ? Buffer.from(value, 'base64') : value);
    mounts.set(mount.mountPath.replace(/\/$/, ''), folder);
  }
  const configMaps = new Map<string, Record<string, string>>();
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    const field = variable.valueFrom?.fieldRef?.fieldPath as string | undefined;
    if (field === 'metadata.namespace') env[variable.name] = namespace;
    else if (field === 'spec.nodeName') env[variable.name] = (await plane.client.list('v1', 'Node'))[0]?.metadata.name ?? '';
    const ref = variable.valueFrom?.configMapKeyRef as { name: string; key: string } | undefined;
    if (ref) {
      if (!configMaps.has(ref.name)) configMaps.set(ref.name, ((await plane.client.get('v1', 'ConfigMap', ref.name, namespace))?.data ?? {}) as Record<string, string>);
      const value = configMaps.get(ref.name)![ref.key];
      if (value !== undefined) env[variable.name] = value;
    }
  }
  const mapPath = (arg: string) => [...mounts].reduce((text, [path, folder]) => text.replaceAll(path, folder), arg);
  // A variable naming a mounted path (local-path's CONFIG_MOUNT_PATH) names the folder standing for it.
  for (const [name, value] of Object.entries(env)) if (value.startsWith('/')) env[name] = mapPath(value);
  const argv = [...(container.command ?? []).slice(1), ...(container.args ?? [])].map((arg) => mapPath(expand(arg, env)));
  const kubeconfig = await serviceAccountKubeconfig(plane, namespace, pod.serviceAccountName ?? 'default', dir);
  const program = startProgram(options.deployment, options.program, [...argv, ...(options.overrides ?? []).map((o) => o.replaceAll('$(KUBECONFIG)', kubeconfig))], join(dir, 'program.log'), { ...process.env, ...env, HOME: dir });
  return { program, argv, stop: () => program.stop() };
}

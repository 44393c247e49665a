import type { LoadedCluster } from '@groundwork/cluster';
import { allObjects, readRenderedLayer, type KubeObject } from '@groundwork/kube';
import { decryptManifest } from '@groundwork/secrets-sops';
import { expand } from '@groundwork/testkit/pods';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}

export interface RenderedContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  readinessProbe?: { exec?: { command: string[] }; httpGet?: { path: string } };
  resources: { requests: { cpu: string; memory: string }; limits: { memory: string } };
}

/** A layer's rendered folder read back from disk, with its Secrets decrypted in memory. */
export class RenderedLayerView {
  readonly objects: KubeObject[];
  private readonly secrets: KubeObject[];

  private constructor(objects: KubeObject[], secrets: KubeObject[]) {
    this.objects = objects;
    this.secrets = secrets;
  }

  static async read(root: string, cluster: LoadedCluster, layer: string): Promise<RenderedLayerView> {
    const rendered = readRenderedLayer(root, cluster.name, layer);
    if (!rendered) throw new Error(`clusters/${cluster.name}/rendered/${layer} is not rendered`);
    const secrets = await Promise.all(rendered.secrets.map((s) => decryptManifest(s.data, cluster, `${s.namespace}/${s.name}`)));
    return new RenderedLayerView(allObjects(rendered), secrets);
  }

  find(kind: string, name: string): KubeObject {
    const found = this.objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in the rendered output`);
    return found;
  }

  /** The first container of a workload's pod template. */
  container(kind: string, name: string): RenderedContainer {
    const spec = this.find(kind, name).spec as { template: { spec: { containers: RenderedContainer[] } } };
    return spec.template.spec.containers[0]!;
  }

  secretValue(name: string, key: string): string {
    const secret = this.secrets.find((s) => s.metadata.name === name);
    const data = secret?.data as Record<string, string> | undefined;
    const stringData = secret?.stringData as Record<string, string> | undefined;
    const value = stringData?.[key] ?? (data?.[key] !== undefined ? Buffer.from(data[key]!, 'base64').toString('utf8') : undefined);
    if (value === undefined) throw new Error(`the rendered Secret ${name} has no key ${key}`);
    return value;
  }

  configMapValue(name: string, key: string): string {
    const value = (this.find('ConfigMap', name).data as Record<string, string> | undefined)?.[key];
    if (value === undefined) throw new Error(`the rendered ConfigMap ${name} has no key ${key}`);
    return value;
  }

  /** A container's environment as the kubelet would give it, Secret and ConfigMap references resolved. */
  environment(container: RenderedContainer): Record<string, string> {
    const env: Record<string, string> = {};
    for (const entry of container.env ?? []) {
      if (entry.value !== undefined) env[entry.name] = expand(entry.value, env);
      else if (entry.valueFrom?.secretKeyRef) env[entry.name] = this.secretValue(entry.valueFrom.secretKeyRef.name, entry.valueFrom.secretKeyRef.key);
      else if (entry.valueFrom?.configMapKeyRef) env[entry.name] = this.configMapValue(entry.valueFrom.configMapKeyRef.name, entry.valueFrom.configMapKeyRef.key);
      else throw new Error(`${container.name}: env ${entry.name} has a source the test cannot resolve`);
    }
    return env;
  }
}

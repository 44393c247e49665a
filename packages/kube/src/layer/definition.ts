import type { LoadedCluster } from '@groundwork/cluster';
import type { KubeApi } from '../client/api.ts';
import type { KubeObject } from '../model/object.ts';
import type { Finding } from '../policy/rules.ts';

/** One deployable part of a layer (Cilium, Traefik, …): rendered to `<name>.yaml`, one file per component. */
export interface Component {
  name: string;
  /** One line on top of the rendered file and in the layer index. */
  description: string;
  /**
   * Apply wave: 0 goes first and is rolled out before wave 1 starts (a CNI, which every other pod
   * waits for on a fresh cluster). Default 1.
   */
  wave?: number;
  /** Typed objects (kubernetes-models interfaces or plain literals). */
  objects: object[];
}

/** A check of the running cluster a layer adds to the generic ones (e.g. "the StorageClass provisions"). */
export interface LiveCheck {
  /** Short name for the status summary, e.g. "storage". */
  name: string;
  run(api: KubeApi, context: { cluster: LoadedCluster; objects: KubeObject[] }): Promise<{ ok: boolean; detail: string }>;
}

/** A static check of the rendered objects a layer adds (e.g. promtool on a rendered Prometheus config). */
export interface StaticCheck {
  name: string;
  run(context: { root: string; cluster: LoadedCluster; objects: KubeObject[] }): Promise<{ problems: string[]; notes: string[] }>;
}

/** A Kubernetes layer: what it renders for a cluster, plus the checks that prove it right and working. */
export interface KubeLayer {
  name: string;
  components(cluster: LoadedCluster): Component[];
  staticChecks?: StaticCheck[];
  liveChecks?: LiveCheck[];
  /** Policy findings that only warn (plain manifests the user chose to accept as they are); all stop otherwise. */
  policyWarns?(cluster: LoadedCluster): (finding: Finding) => boolean;
}

/** An encrypted Secret manifest a layer declares, as stored in the repository. */
export interface EncryptedSecret {
  namespace: string;
  name: string;
  /** The SOPS-encrypted manifest, byte for byte. */
  data: Uint8Array;
}

/**
 * Where a layer's Secrets come from. secrets-sops implements it; the Kubernetes library only ever sees
 * encrypted bytes, except in memory during apply and live verify.
 */
export interface SecretSource {
  /**
   * The encrypted manifests of the Secrets `layer` declares for this cluster; `missing` names the values nobody
   * has provided yet (generate renders without them, the layer's apply refuses until they exist).
   */
  declared(root: string, cluster: LoadedCluster, layer: string): Promise<{ secrets: EncryptedSecret[]; problems: string[]; missing?: string[] }>;
  /** Decrypts one manifest in memory (MAC checked). */
  decrypt(root: string, cluster: LoadedCluster, secret: EncryptedSecret): Promise<KubeObject>;
  /** Whether an identity that can decrypt this cluster's secrets is at hand. */
  canDecrypt(root: string, cluster: LoadedCluster): Promise<boolean>;
}

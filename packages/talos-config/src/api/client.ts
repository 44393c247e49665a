import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { standardKeyPem } from '../pki/keys.ts';

/**
 * A client for the Talos API (apid, gRPC over TLS on port 50000), with the calls groundwork needs.
 * Two modes, as talosctl has them:
 *  - maintenance: a node booted without config serves a self-signed certificate; the client sends no
 *    certificate and skips verification (`talosctl --insecure`);
 *  - mtls: the talosconfig's admin certificate, and the server verified against the Talos OS CA.
 */

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const definitions = protoLoader.loadSync(['machine.proto', 'cluster.proto'], {
  includeDirs: [PROTO_DIR],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

type ServiceConstructor = grpc.ServiceClientConstructor;
const loaded = grpc.loadPackageDefinition(definitions) as unknown as {
  machine: { MachineService: ServiceConstructor; LifecycleService: ServiceConstructor; ImageService: ServiceConstructor };
  cluster: { ClusterService: ServiceConstructor };
};
export const MachineService = loaded.machine.MachineService;
export const LifecycleService = loaded.machine.LifecycleService;
export const ImageService = loaded.machine.ImageService;
export const ClusterService = loaded.cluster.ClusterService;

export type ApplyMode = 'REBOOT' | 'AUTO' | 'NO_REBOOT' | 'STAGED' | 'TRY';

export interface Target {
  /** Where to connect (an address override may point elsewhere than the node). */
  host: string;
  port: number;
  /** The name the server certificate must carry: the node's address. */
  serverName: string;
}

export type Credentials = { mode: 'maintenance' } | { mode: 'mtls'; ca: string; crt: string; key: string };

export interface EtcdMember {
  id: string;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** One member's view of etcd (EtcdStatus): its ID, the leader it follows, and errors it reports. */
export interface EtcdMemberStatus {
  memberId: string;
  leader: string;
  isLearner: boolean;
  dbSize: number;
  errors: string[];
  protocolVersion: string;
}

export type ResetOptions = { graceful: boolean; reboot: boolean; mode?: 'ALL' | 'SYSTEM_DISK' | 'USER_DISKS' };

/** talosctl's default (`--namespace=system`): the CRI driver on the system namespace, where installers live. */
const SYSTEM_CONTAINERD = { driver: 'CRI', namespace: 'NS_SYSTEM' } as const;

export class TalosApiError extends Error {
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
}

function channelCredentials(credentials: Credentials): grpc.ChannelCredentials {
  if (credentials.mode === 'maintenance') {
    return grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  }
  return grpc.credentials.createSsl(Buffer.from(credentials.ca), Buffer.from(standardKeyPem(credentials.key)), Buffer.from(credentials.crt));
}

type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;
type Streaming = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

export class TalosClient {
  private readonly machine: grpc.Client;
  private readonly lifecycle: grpc.Client;
  private readonly images: grpc.Client;
  private readonly cluster: grpc.Client;
  private readonly timeoutMs: number;
  readonly target: Target;

  constructor(target: Target, credentials: Credentials, options: { timeoutMs?: number } = {}) {
    const address = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const channelOptions = { 'grpc.ssl_target_name_override': target.serverName, 'grpc.default_authority': target.serverName };
    const creds = channelCredentials(credentials);
    this.machine = new MachineService(address, creds, channelOptions);
    this.lifecycle = new LifecycleService(address, creds, channelOptions);
    this.images = new ImageService(address, creds, channelOptions);
    this.cluster = new ClusterService(address, creds, channelOptions);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.target = target;
  }

  private unary<T>(client: grpc.Client, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const call = (client as unknown as Record<string, Unary>)[method]!.bind(client);
      call(request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (error, response) => {
        if (error) reject(new TalosApiError(`${method} on ${this.target.serverName}: ${error.details || error.message}`, error.code));
        else resolve(response as T);
      });
    });
  }

  private stream<T>(client: grpc.Client, method: string, request: unknown, deadlineMs: number, onMessage: (message: T) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = (client as unknown as Record<string, Streaming>)[method]!.bind(client);
      const stream = call(request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
      // A message the caller refuses (a failed health check, a chunk it cannot write) ends the call: the error
      // rejects this promise instead of escaping from the stream's listener.
      let failed = false;
      stream.on('data', (message: T) => {
        if (failed) return;
        try {
          onMessage(message);
        } catch (error) {
          failed = true;
          stream.cancel();
          reject(error);
        }
      });
      stream.on('error', (error: grpc.ServiceError) => {
        if (!failed) reject(new TalosApiError(`${method} on ${this.target.serverName}: ${error.details || error.message}`, error.code));
      });
      stream.on('end', () => {
        if (!failed) resolve();
      });
    });
  }

  async version(): Promise<{ tag: string; arch: string; platform: string }> {
    const response = await this.unary<{ messages: Array<{ version?: { tag: string; arch: string }; platform?: { name: string; mode: string } }> }>(this.machine, 'version', {});
    const message = response.messages[0];
    return { tag: message?.version?.tag ?? '', arch: message?.version?.arch ?? '', platform: message?.platform?.name ?? '' };
  }

  async applyConfiguration(data: Uint8Array, mode: ApplyMode, options: { dryRun?: boolean; tryTimeoutSeconds?: number } = {}): Promise<{ mode: string; details: string; warnings: string[] }> {
    const request = {
      data: Buffer.from(data),
      mode,
      dryRun: options.dryRun ?? false,
      ...(mode === 'TRY' ? { tryModeTimeout: { seconds: String(options.tryTimeoutSeconds ?? 60), nanos: 0 } } : {}),
    };
    const response = await this.unary<{ messages: Array<{ mode: string; modeDetails: string; warnings: string[] }> }>(this.machine, 'applyConfiguration', request);
    const message = response.messages[0];
    return { mode: message?.mode ?? mode, details: message?.modeDetails ?? '', warnings: message?.warnings ?? [] };
  }

  async bootstrap(): Promise<void> {
    await this.unary(this.machine, 'bootstrap', { recoverEtcd: false, recoverSkipHashCheck: false });
  }

  async etcdMembers(): Promise<EtcdMember[]> {
    const response = await this.unary<{ messages: Array<{ members: EtcdMember[] }> }>(this.machine, 'etcdMemberList', { queryLocal: false });
    return response.messages.flatMap((m) => m.members);
  }

  /** The kubeconfig as the node streams it: a gzip-compressed tar archive. */
  async kubeconfigArchive(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.stream<{ bytes: Buffer }>(this.machine, 'kubeconfig', {}, this.timeoutMs, (message) => chunks.push(Buffer.from(message.bytes)));
    return Buffer.concat(chunks);
  }

  /** Streams raw etcd snapshot bytes (the dr layer uses it). */
  async etcdSnapshot(onChunk: (bytes: Buffer) => void, deadlineMs = 600_000): Promise<void> {
    await this.stream<{ bytes: Buffer }>(this.machine, 'etcdSnapshot', {}, deadlineMs, (message) => onChunk(Buffer.from(message.bytes)));
  }

  /** Talos's server-side cluster health check; resolves when it finishes, rejects on the first failure. */
  async healthCheck(controlPlanes: string[], workers: string[], waitSeconds: number, onProgress: (message: string) => void): Promise<void> {
    const request = { waitTimeout: { seconds: String(waitSeconds), nanos: 0 }, clusterInfo: { controlPlaneNodes: controlPlanes, workerNodes: workers, forceEndpoint: '' } };
    await this.stream<{ message: string; metadata?: { error?: string } }>(this.cluster, 'healthCheck', request, (waitSeconds + 30) * 1000, (progress) => {
      if (progress.metadata?.error) throw new TalosApiError(`health check on ${this.target.serverName}: ${progress.metadata.error}`);
      onProgress(progress.message);
    });
  }

  /** This node's etcd member status (control planes only). */
  async etcdStatus(): Promise<EtcdMemberStatus> {
    const response = await this.unary<{ messages: Array<{ memberStatus?: { memberId: string; leader: string; isLearner: boolean; dbSize: string; errors: string[]; protocolVersion: string } }> }>(this.machine, 'etcdStatus', {});
    const status = response.messages[0]?.memberStatus;
    if (!status) throw new TalosApiError(`etcdStatus on ${this.target.serverName}: empty answer`);
    return { memberId: status.memberId, leader: status.leader, isLearner: status.isLearner, dbSize: Number(status.dbSize), errors: status.errors ?? [], protocolVersion: status.protocolVersion };
  }

  /** Removes another member from etcd by its ID (what `talosctl etcd remove-member` does for a dead node). */
  async etcdRemoveMemberById(memberId: string): Promise<void> {
    await this.unary(this.machine, 'etcdRemoveMemberById', { memberId });
  }

  /** This node leaves etcd (it must still be healthy). */
  async etcdLeaveCluster(): Promise<void> {
    await this.unary(this.machine, 'etcdLeaveCluster', {});
  }

  /** Hands etcd leadership to another member if this node leads; returns the member that now leads. */
  async etcdForfeitLeadership(): Promise<string> {
    const response = await this.unary<{ messages: Array<{ member: string }> }>(this.machine, 'etcdForfeitLeadership', {});
    return response.messages[0]?.member ?? '';
  }

  /** When the node booted (seconds since the epoch): a reboot is over when this has changed. */
  async bootTime(): Promise<string> {
    const response = await this.unary<{ messages: Array<{ bootTime: string }> }>(this.machine, 'systemStat', {});
    return response.messages[0]?.bootTime ?? '';
  }

  async reboot(): Promise<void> {
    await this.unary(this.machine, 'reboot', { mode: 'DEFAULT' });
  }

  /** Wipes the node back to maintenance mode; `graceful` has a control plane leave etcd first. */
  async reset(options: ResetOptions): Promise<void> {
    await this.unary(this.machine, 'reset', { graceful: options.graceful, reboot: options.reboot, mode: options.mode ?? 'ALL', systemPartitionsToWipe: [], userDisksToWipe: [] });
  }

  /** Pulls an image into the node's system containerd (ImageService.Pull); resolves with the name pulled. */
  async pullImage(image: string, deadlineMs = 900_000): Promise<string> {
    let name = '';
    await this.stream<{ name?: string; response?: string }>(this.images, 'pull', { containerd: SYSTEM_CONTAINERD, imageRef: image }, deadlineMs, (message) => {
      if (message.response === 'name' && message.name) name = message.name;
    });
    if (!name) throw new TalosApiError(`image pull on ${this.target.serverName}: ${image} was not pulled`);
    return name;
  }

  /**
   * Installs `image` as the node's next boot (LifecycleService.Upgrade, what talosctl 1.13 calls), streaming the
   * installer's progress. The node keeps running the old system until it reboots; the installer's exit code
   * comes as a message, not as an error, so a non-zero one is turned into one here.
   */
  async installUpgrade(image: string, onProgress: (message: string) => void, deadlineMs = 900_000): Promise<void> {
    const request = { containerd: SYSTEM_CONTAINERD, source: { imageName: image } };
    let exitCode: number | undefined;
    await this.stream<{ progress?: { message?: string; exitCode?: number; response?: string } }>(this.lifecycle, 'upgrade', request, deadlineMs, (message) => {
      const progress = message.progress;
      if (progress?.response === 'exitCode') exitCode = progress.exitCode ?? 0;
      if (exitCode !== undefined && exitCode !== 0) throw new TalosApiError(`upgrade on ${this.target.serverName}: the installer exited with ${exitCode}`);
      if (progress?.response === 'message' && progress.message) onProgress(progress.message);
    });
    // A stream that ends without the installer's exit code did not finish the install.
    if (exitCode === undefined) throw new TalosApiError(`upgrade on ${this.target.serverName}: the installer did not report how it ended`);
  }

  close(): void {
    this.images.close();
    this.lifecycle.close();
    this.machine.close();
    this.cluster.close();
  }
}

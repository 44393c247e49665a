import * as grpc from '@grpc/grpc-js';
import { parseAllDocuments } from 'yaml';
import { ClusterService, ImageService, LifecycleService, MachineService } from '../src/api/client.ts';
import type { SecretsBundle } from '../src/bundle/bundle.ts';
import { issue, selfSigned, tarGz } from './certs.ts';

/**
 * A stand-in for Talos's apid, speaking the real protocol (gRPC over TLS) with certificates from a generated
 * bundle, so the client's real code path runs end to end. It models what the apply flow depends on:
 * maintenance mode (self-signed, no client certificate, Version and ApplyConfiguration only), the reboot into
 * mutual TLS after a config is applied, apid's check that a client certificate's EKU is exactly ClientAuth,
 * one etcd bootstrap, the kubeconfig tar.gz stream, the health check, and etcd snapshots streamed from
 * whatever `snapshot` returns (a real etcd's, in the dr tests) to the roles Talos allows them (admin,
 * operator, etcd:backup: what a Kubernetes pod gets through a talos.dev ServiceAccount).
 *
 * The Day-2 calls follow Talos 1.13's server code: ImageService.Pull into the system containerd, then
 * LifecycleService.Upgrade, which fails when the installer was not pulled, reports the installer's exit code as a
 * message and runs no etcd check (the client must); the new system runs only after Reboot. Reset with `graceful`
 * has a control plane leave etcd first; the etcd calls answer Unimplemented on workers, as machined's
 * CheckControlplane does. Member IDs are given in join order (1, 2, …) and never reused.
 *
 * What machined does next is not modelled here: `SharedState.machined` is told when a node takes a config, when
 * etcd is bootstrapped and when a node reboots (talos-kubernetes.ts starts a real control plane from the applied
 * config and moves it to new Kubernetes versions).
 */

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** What happens on a node after the API calls, outside this stand-in (see talos-kubernetes.ts). */
export interface Machined {
  configured(node: { name: string; ip: string; controlPlane: boolean }, config: string): void;
  bootstrapped(node: { name: string; ip: string }, config: string): void;
  rebooted?(node: { name: string; ip: string; talosVersion: string }): void;
  /** The node was wiped (a reset): what ran on it is gone. */
  wiped?(node: { name: string; ip: string; controlPlane: boolean }): void;
}

export interface SharedState {
  bootstrapCalls: number;
  /** etcd members by hostname, in join order. */
  etcdMembers: string[];
  /** The leading member's hostname (default: the first member). */
  leader?: string;
  /** Errors a member's EtcdStatus reports, by hostname. */
  etcdErrors?: Record<string, string[]>;
  machined?: Machined;
  /** Member IDs by hostname, given on first sight. */
  ids?: Record<string, number>;
  /** Every node's Day-2 calls in the order they came, as `node call`. */
  journal?: string[];
  /** Control planes configured before the bootstrap: their etcd joins once it is bootstrapped. */
  waitingToJoin?: string[];
  /** Members whose disks were wiped without leaving: dead until removed, and etcd is gone once all are. */
  wiped?: string[];
  /** Nodes whose API (and so their etcd) runs now: etcd changes its membership only with a quorum of them. */
  running?: Set<string>;
}

export function sharedState(machined?: Machined): SharedState {
  return { bootstrapCalls: 0, etcdMembers: [], ...(machined ? { machined } : {}) };
}

export function memberId(state: SharedState, name: string): string {
  state.ids ??= {};
  for (const member of [...state.etcdMembers, name]) state.ids[member] ??= Math.max(0, ...Object.values(state.ids)) + 1;
  return String(state.ids[name]);
}

const leaderOf = (state: SharedState) => (state.leader && state.etcdMembers.includes(state.leader) ? state.leader : state.etcdMembers[0]);

interface NodeSpec {
  name: string;
  ip: string;
  controlPlane: boolean;
  talosVersion: string;
  /** Names the serving certificate carries besides the IP (Talos adds talos.default for Kubernetes access). */
  dnsNames?: string[];
}

/** The roles each call accepts besides os:admin, from Talos's authorization map. */
const ROLES: Record<string, string[]> = {
  etcdSnapshot: ['os:operator', 'os:etcd:backup'],
  etcdMemberList: ['os:operator', 'os:reader', 'os:etcd:backup'],
  etcdStatus: ['os:operator', 'os:reader', 'os:etcd:backup'],
  version: ['os:operator', 'os:reader'],
  reboot: ['os:operator'],
  systemStat: ['os:operator', 'os:reader'],
  pull: ['os:operator'],
};

type Callback = (error: Partial<grpc.ServiceError> | null, value?: unknown) => void;

const denied = (message: string): Partial<grpc.ServiceError> => ({ code: grpc.status.PERMISSION_DENIED, details: message });

export class FakeTalosNode {
  readonly spec: NodeSpec;
  port = 0;
  mode: 'maintenance' | 'configured';
  config: string | undefined;
  applyCalls: Array<{ mode: string; dryRun: boolean }> = [];
  /** When set, the health check reports this failure. */
  healthFailure?: string;
  /** The bytes EtcdSnapshot streams; `fault: 'abort'` ends the stream with an error halfway through. */
  snapshot: { bytes: () => Buffer; fault?: 'abort' } | undefined;
  /** Who asked for a snapshot, by the roles of their certificate. */
  snapshotCallers: string[][] = [];
  /** Images in the node's system containerd. */
  readonly pulled = new Set<string>();
  /** The installer an upgrade wrote, booted at the next reboot. */
  staged: string | undefined;
  /** The exit code the installer reports (a failed install when not 0). */
  installerExitCode = 0;
  /** Day-2 calls in order, as `method target` (e.g. `upgrade ghcr.io/…`, `reboot`, `reset graceful`). */
  calls: string[] = [];
  /** How long a reboot keeps the API down. */
  rebootMs = 50;
  /** Seconds since the epoch at the last boot (SystemStat), and how many reboots finished. */
  bootTime = Math.floor(Date.now() / 1000);
  reboots = 0;
  private server: grpc.Server | undefined;
  private readonly bundle: SecretsBundle;
  private readonly state: SharedState;
  private readonly kubeconfig: () => string;

  constructor(spec: NodeSpec, bundle: SecretsBundle, state: SharedState, kubeconfig: () => string, mode: 'maintenance' | 'configured' = 'maintenance') {
    this.spec = spec;
    this.bundle = bundle;
    this.state = state;
    this.kubeconfig = kubeconfig;
    this.mode = mode;
  }

  private credentials(): grpc.ServerCredentials {
    if (this.mode === 'maintenance') {
      const own = selfSigned(this.spec.ip);
      return grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(own.crt), private_key: Buffer.from(own.key) }], false);
    }
    const serving = issue(this.bundle.certs.os, ['talos'], { ips: [this.spec.ip], ...(this.spec.dnsNames ? { dnsNames: this.spec.dnsNames } : {}), extKeyUsage: ['serverAuth'] });
    return grpc.ServerCredentials.createSsl(Buffer.from(this.bundle.certs.os.crt), [{ cert_chain: Buffer.from(serving.crt), private_key: Buffer.from(serving.key) }], true);
  }

  /** The roles of the caller's certificate (its organizations). */
  private roles(call: { getAuthContext(): { sslPeerCertificate?: { subject?: { O?: string | string[] } } } }): string[] {
    return ([] as string[]).concat(call.getAuthContext().sslPeerCertificate?.subject?.O ?? []);
  }

  /** What apid checks on every call in normal mode: EKU exactly [ClientAuth] and a role the call allows. */
  private authorize(call: { getAuthContext(): { sslPeerCertificate?: { ext_key_usage?: string[]; subject?: { O?: string | string[] } } } }, method = ''): string | undefined {
    if (this.mode === 'maintenance') return undefined;
    const cert = call.getAuthContext().sslPeerCertificate;
    const eku = cert?.ext_key_usage ?? [];
    if (eku.length !== 1 || eku[0] !== CLIENT_AUTH) return 'client certificate extended key usage must be exactly ClientAuth';
    const roles = this.roles(call);
    if (!roles.some((r) => r === 'os:admin' || (ROLES[method] ?? []).includes(r))) return `role ${roles.join(',') || 'none'} is not allowed`;
    return undefined;
  }

  private handlers() {
    const metadata = { hostname: this.spec.name };
    const guard = (call: Parameters<FakeTalosNode['authorize']>[0], callback: Callback, maintenanceAllowed: boolean, run: () => void, method = '') => {
      const problem = this.authorize(call, method) ?? (this.mode === 'maintenance' && !maintenanceAllowed ? 'not available in maintenance mode' : undefined);
      if (problem) callback(denied(problem));
      else run();
    };
    const controlPlaneOnly = (callback: Callback, run: () => void) =>
      this.spec.controlPlane ? run() : callback({ code: grpc.status.UNIMPLEMENTED, details: 'this API is only available on control plane nodes' });
    const removeMember = (name: string) => {
      this.state.etcdMembers = this.state.etcdMembers.filter((m) => m !== name);
      if (this.state.leader === name) this.state.leader = undefined;
    };
    return {
      machine: {
        version: (call: never, callback: Callback) =>
          guard(call, callback, true, () => callback(null, { messages: [{ metadata, version: { tag: this.spec.talosVersion, arch: 'amd64' }, platform: { name: 'metal', mode: this.mode } }] })),
        applyConfiguration: (call: { request: { data: Buffer; mode: string; dryRun: boolean } } & Parameters<FakeTalosNode['authorize']>[0], callback: Callback) =>
          guard(call, callback, true, () => {
            const { data, mode, dryRun } = call.request;
            const text = Buffer.from(data).toString('utf8');
            this.applyCalls.push({ mode, dryRun });
            if (!dryRun && parseAllDocuments(text).length === 0) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'empty config' });
            const details = dryRun ? (text === this.config ? 'Config diff:\n\nNo changes.' : `Config diff:\n\n--- current\n+++ new\n@@ changed ${text.length} bytes`) : 'Applied configuration';
            callback(null, { messages: [{ metadata, mode: this.mode === 'maintenance' ? 'NO_REBOOT' : mode, modeDetails: details, warnings: [] }] });
            if (!dryRun) {
              this.config = text;
              if (this.mode === 'maintenance') setTimeout(() => void this.reboot(), 20);
              if (this.spec.controlPlane && !this.state.etcdMembers.includes(this.spec.name)) {
                if (this.state.etcdMembers.length) this.state.etcdMembers.push(this.spec.name);
                else (this.state.waitingToJoin ??= []).push(this.spec.name);
              }
              this.state.machined?.configured(this.spec, text);
            }
          }),
        bootstrap: (call: never, callback: Callback) =>
          guard(call, callback, false, () => {
            this.state.bootstrapCalls++;
            if (!this.spec.controlPlane) return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'bootstrap is only possible on control planes' });
            if (this.state.etcdMembers.length) return callback({ code: grpc.status.ALREADY_EXISTS, details: 'etcd data directory is not empty' });
            this.state.etcdMembers.push(this.spec.name, ...(this.state.waitingToJoin ?? []).filter((n) => n !== this.spec.name));
            this.state.waitingToJoin = [];
            callback(null, { messages: [{ metadata }] });
            this.state.machined?.bootstrapped(this.spec, this.config ?? '');
          }),
        etcdMemberList: (call: never, callback: Callback) =>
          guard(call, callback, false, () =>
            callback(null, { messages: [{ metadata, members: this.state.etcdMembers.map((hostname) => ({ id: memberId(this.state, hostname), hostname, peerUrls: [], clientUrls: [], isLearner: false })) }] }),
          ),
        etcdStatus: (call: never, callback: Callback) =>
          guard(call, callback, false, () => controlPlaneOnly(callback, () => {
            if (!this.state.etcdMembers.includes(this.spec.name)) return callback({ code: grpc.status.UNAVAILABLE, details: 'etcd is not running on this node' });
            const memberStatus = { memberId: memberId(this.state, this.spec.name), leader: memberId(this.state, leaderOf(this.state)!), isLearner: false, dbSize: '1048576', errors: this.state.etcdErrors?.[this.spec.name] ?? [], protocolVersion: '3.6.0' };
            callback(null, { messages: [{ metadata, memberStatus }] });
          }), 'etcdStatus'),
        etcdRemoveMemberById: (call: { request: { memberId: string } } & Parameters<FakeTalosNode['authorize']>[0], callback: Callback) =>
          guard(call, callback, false, () => controlPlaneOnly(callback, () => {
            const name = this.state.etcdMembers.find((m) => memberId(this.state, m) === String(call.request.memberId));
            if (!name) return callback({ code: grpc.status.NOT_FOUND, details: `etcd member ${call.request.memberId} not found` });
            const up = this.state.etcdMembers.filter((m) => this.state.running?.has(m)).length;
            if (up < Math.floor(this.state.etcdMembers.length / 2) + 1) return callback({ code: grpc.status.UNAVAILABLE, details: 'etcdserver: unhealthy cluster' });
            this.record(`etcd remove-member ${name}`);
            removeMember(name);
            callback(null, { messages: [{ metadata }] });
          })),
        etcdLeaveCluster: (call: never, callback: Callback) =>
          guard(call, callback, false, () => controlPlaneOnly(callback, () => {
            this.record('etcd leave');
            removeMember(this.spec.name);
            callback(null, { messages: [{ metadata }] });
          })),
        etcdForfeitLeadership: (call: never, callback: Callback) =>
          guard(call, callback, false, () => controlPlaneOnly(callback, () => {
            if (leaderOf(this.state) === this.spec.name) this.state.leader = this.state.etcdMembers.find((m) => m !== this.spec.name) ?? this.spec.name;
            this.record('etcd forfeit-leadership');
            callback(null, { messages: [{ metadata, member: leaderOf(this.state) ?? '' }] });
          })),
        systemStat: (call: never, callback: Callback) =>
          guard(call, callback, false, () => callback(null, { messages: [{ metadata, bootTime: String(this.bootTime) }] }), 'systemStat'),
        reboot: (call: never, callback: Callback) =>
          guard(call, callback, false, () => {
            this.record('reboot');
            callback(null, { messages: [{ metadata, actorId: 'reboot' }] });
            setTimeout(() => void this.reboot(), 20);
          }, 'reboot'),
        reset: (call: { request: { graceful: boolean; reboot: boolean } } & Parameters<FakeTalosNode['authorize']>[0], callback: Callback) =>
          guard(call, callback, false, () => {
            const { graceful, reboot } = call.request;
            this.record(`reset${graceful ? ' graceful' : ''}${reboot ? ' reboot' : ''}`);
            if (graceful && this.spec.controlPlane) removeMember(this.spec.name);
            callback(null, { messages: [{ metadata, actorId: 'reset' }] });
            // The reset runs after the call returns: the node is wiped and comes back in maintenance mode, or stays off.
            setTimeout(() => void this.wipe(reboot), 20);
          }),
        upgrade: (_call: never, callback: Callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: 'use LifecycleService.Upgrade' }),
        etcdSnapshot: (call: grpc.ServerWritableStream<unknown, unknown> & Parameters<FakeTalosNode['authorize']>[0]) => {
          const problem = this.authorize(call, 'etcdSnapshot') ?? (this.mode === 'maintenance' ? 'not available in maintenance mode' : undefined);
          // A status after messages goes out as trailers: emit the error (destroy would drop the call silently).
          if (problem) return void call.emit('error', Object.assign(new Error(problem), denied(problem)));
          this.snapshotCallers.push(this.roles(call));
          const bytes = this.snapshot?.bytes() ?? Buffer.alloc(0);
          const end = this.snapshot?.fault === 'abort' ? Math.floor(bytes.length / 2) : bytes.length;
          for (let i = 0; i < end; i += 32_768) call.write({ metadata, bytes: bytes.subarray(i, Math.min(i + 32_768, end)) });
          if (this.snapshot?.fault === 'abort') return void call.emit('error', Object.assign(new Error('etcd: connection lost'), { code: grpc.status.UNAVAILABLE, details: 'etcd: connection lost' }));
          call.end();
        },
        kubeconfig: (call: grpc.ServerWritableStream<unknown, unknown> & Parameters<FakeTalosNode['authorize']>[0]) => {
          const problem = this.authorize(call);
          if (problem) return call.destroy(Object.assign(new Error(problem), denied(problem)));
          const archive = tarGz('kubeconfig', this.kubeconfig());
          for (let i = 0; i < archive.length; i += 64) call.write({ metadata, bytes: archive.subarray(i, i + 64) });
          call.end();
        },
      },
      lifecycle: {
        upgrade: (call: grpc.ServerWritableStream<{ source?: { imageName?: string } }, unknown> & Parameters<FakeTalosNode['authorize']>[0]) => {
          const problem = this.authorize(call, 'upgrade') ?? (this.mode === 'maintenance' ? 'method is not supported in maintenance mode' : undefined);
          if (problem) return void call.emit('error', Object.assign(new Error(problem), { code: grpc.status.FAILED_PRECONDITION, details: problem }));
          const image = call.request.source?.imageName ?? '';
          if (!image) return void call.emit('error', Object.assign(new Error('image name is required'), { code: grpc.status.INVALID_ARGUMENT, details: 'image name is required' }));
          if (!this.pulled.has(image)) return void call.emit('error', Object.assign(new Error('not found'), { code: grpc.status.INTERNAL, details: `installer image ${image} not found in containerd store` }));
          this.record(`upgrade ${image}`);
          for (const message of ['running installer', 'installing bootloader']) call.write({ progress: { message } });
          call.write({ progress: { exitCode: this.installerExitCode } });
          if (this.installerExitCode === 0) this.staged = image;
          call.end();
        },
      },
      images: {
        pull: (call: grpc.ServerWritableStream<{ imageRef: string }, unknown> & Parameters<FakeTalosNode['authorize']>[0]) => {
          const problem = this.authorize(call, 'pull');
          if (problem) return void call.emit('error', Object.assign(new Error(problem), denied(problem)));
          this.pulled.add(call.request.imageRef);
          call.write({ pullProgress: { layerId: 'sha256:0' } });
          call.write({ name: call.request.imageRef });
          call.end();
        },
      },
      cluster: {
        healthCheck: (call: grpc.ServerWritableStream<unknown, unknown> & Parameters<FakeTalosNode['authorize']>[0]) => {
          const problem = this.authorize(call);
          if (problem) return call.destroy(Object.assign(new Error(problem), denied(problem)));
          if (!this.state.etcdMembers.length) return call.destroy(Object.assign(new Error('etcd is not running'), { code: grpc.status.UNAVAILABLE }));
          for (const message of ['discovered nodes', 'waiting for etcd to be healthy: OK']) call.write({ metadata, message });
          // Talos reports a failed check as a message whose metadata carries the error, and keeps the stream open.
          if (this.healthFailure) return void call.write({ metadata: { ...metadata, error: this.healthFailure }, message: 'waiting for all k8s nodes to report ready' });
          call.write({ metadata, message: 'waiting for all k8s nodes to report ready: OK' });
          call.end();
        },
      },
    };
  }

  async start(port = 0): Promise<void> {
    const server = new grpc.Server();
    const handlers = this.handlers();
    server.addService(MachineService.service, handlers.machine as unknown as grpc.UntypedServiceImplementation);
    server.addService(ClusterService.service, handlers.cluster as unknown as grpc.UntypedServiceImplementation);
    server.addService(LifecycleService.service, handlers.lifecycle as unknown as grpc.UntypedServiceImplementation);
    server.addService(ImageService.service, handlers.images as unknown as grpc.UntypedServiceImplementation);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, this.credentials(), (error, bound) => (error ? reject(error) : resolve(bound))));
    this.server = server;
    (this.state.running ??= new Set()).add(this.spec.name);
  }

  /**
   * A reboot: the API is down for `rebootMs`, then the node answers with the system an upgrade staged (its
   * version is the installer's tag) and, after a config applied in maintenance mode, with mutual TLS.
   */
  async reboot(): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, this.rebootMs));
    if (this.config !== undefined) this.mode = 'configured';
    if (this.staged) this.spec.talosVersion = this.staged.slice(this.staged.lastIndexOf(':') + 1);
    this.staged = undefined;
    this.bootTime = Math.max(this.bootTime + 1, Math.floor(Date.now() / 1000));
    this.reboots++;
    await this.start(this.port);
    this.state.machined?.rebooted?.(this.spec);
  }

  private record(call: string): void {
    this.calls.push(call);
    (this.state.journal ??= []).push(`${this.spec.name} ${call}`);
  }

  /** After a reset: wiped, back in maintenance mode if it reboots, otherwise powered off. */
  private async wipe(reboot: boolean): Promise<void> {
    await this.stop();
    if (this.state.etcdMembers.includes(this.spec.name)) {
      this.state.wiped = [...new Set([...(this.state.wiped ?? []), this.spec.name])];
      if (this.state.etcdMembers.every((m) => this.state.wiped!.includes(m))) {
        this.state.etcdMembers = [];
        this.state.wiped = [];
      }
    }
    this.state.machined?.wiped?.(this.spec);
    this.config = undefined;
    this.pulled.clear();
    this.mode = 'maintenance';
    if (reboot) await this.start(this.port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.state.running?.delete(this.spec.name);
    if (server) await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

/** An admin kubeconfig as Talos issues it (CN=admin, O=system:masters, signed by the Kubernetes CA). */
export function adminKubeconfig(bundle: SecretsBundle, cluster: string, server: string): string {
  const admin = issue(bundle.certs.k8s, ['kubernetes'], { organization: ['system:masters'], commonName: 'admin', extKeyUsage: ['clientAuth'], algorithm: 'ecdsa-p256' });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters:\n- name: ${cluster}\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${b64(bundle.certs.k8s.crt)}`,
    `users:\n- name: admin@${cluster}\n  user:\n    client-certificate-data: ${b64(admin.crt)}\n    client-key-data: ${b64(admin.key)}`,
    `contexts:\n- name: admin@${cluster}\n  context:\n    cluster: ${cluster}\n    user: admin@${cluster}`,
    `current-context: admin@${cluster}`,
    '',
  ].join('\n');
}

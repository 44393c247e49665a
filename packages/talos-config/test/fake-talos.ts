import * as grpc from '@grpc/grpc-js';
import { parseAllDocuments } from 'yaml';
import { ClusterService, MachineService } from '../src/api/client.ts';
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
 * What machined does next is not modelled here: `SharedState.machined` is told when a node takes a config and
 * when etcd is bootstrapped (talos-kubernetes.ts starts a real control plane from the applied config then).
 */

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** What happens on a node after the API calls, outside this stand-in (see talos-kubernetes.ts). */
export interface Machined {
  configured(node: { name: string; ip: string; controlPlane: boolean }, config: string): void;
  bootstrapped(node: { name: string; ip: string }, config: string): void;
}

export interface SharedState {
  bootstrapCalls: number;
  etcdMembers: string[];
  machined?: Machined;
}

export function sharedState(machined?: Machined): SharedState {
  return { bootstrapCalls: 0, etcdMembers: [], ...(machined ? { machined } : {}) };
}

interface NodeSpec {
  name: string;
  ip: string;
  controlPlane: boolean;
  talosVersion: string;
  /** Names the serving certificate carries besides the IP (Talos adds talos.default for Kubernetes access). */
  dnsNames?: string[];
}

/** The roles each call accepts besides os:admin, from Talos's authorization map. */
const ROLES: Record<string, string[]> = { etcdSnapshot: ['os:operator', 'os:etcd:backup'], etcdMemberList: ['os:operator', 'os:reader', 'os:etcd:backup'], version: ['os:operator', 'os:reader'] };

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
    const guard = (call: Parameters<FakeTalosNode['authorize']>[0], callback: Callback, maintenanceAllowed: boolean, run: () => void) => {
      const problem = this.authorize(call) ?? (this.mode === 'maintenance' && !maintenanceAllowed ? 'not available in maintenance mode' : undefined);
      if (problem) callback(denied(problem));
      else run();
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
              if (this.state.etcdMembers.length && this.spec.controlPlane && !this.state.etcdMembers.includes(this.spec.name)) this.state.etcdMembers.push(this.spec.name);
              this.state.machined?.configured(this.spec, text);
            }
          }),
        bootstrap: (call: never, callback: Callback) =>
          guard(call, callback, false, () => {
            this.state.bootstrapCalls++;
            if (!this.spec.controlPlane) return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'bootstrap is only possible on control planes' });
            if (this.state.etcdMembers.length) return callback({ code: grpc.status.ALREADY_EXISTS, details: 'etcd data directory is not empty' });
            this.state.etcdMembers.push(this.spec.name);
            callback(null, { messages: [{ metadata }] });
            this.state.machined?.bootstrapped(this.spec, this.config ?? '');
          }),
        etcdMemberList: (call: never, callback: Callback) =>
          guard(call, callback, false, () =>
            callback(null, { messages: [{ metadata, members: this.state.etcdMembers.map((hostname, i) => ({ id: String(i + 1), hostname, peerUrls: [], clientUrls: [], isLearner: false })) }] }),
          ),
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
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, this.credentials(), (error, bound) => (error ? reject(error) : resolve(bound))));
    this.server = server;
  }

  /** After a config is applied in maintenance mode the node reboots into it: same address, mutual TLS. */
  async reboot(): Promise<void> {
    await this.stop();
    this.mode = 'configured';
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
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

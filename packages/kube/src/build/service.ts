import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { meta, selectorLabels, type App } from './labels.ts';

export interface ServicePort {
  name: string;
  port: number;
  /** The container port name (or number) traffic goes to; defaults to the port name. */
  targetPort?: string | number;
  protocol?: 'TCP' | 'UDP';
  appProtocol?: string;
}

export interface ServiceInput {
  ports: ServicePort[];
  type?: 'ClusterIP' | 'LoadBalancer' | 'NodePort';
  annotations?: Record<string, string>;
  /** Extra spec fields, e.g. externalTrafficPolicy or fixed nodePorts. */
  spec?: Partial<NonNullable<IService['spec']>>;
  name?: string;
}

/** A Service that selects the app's pods. */
export function service(app: App, input: ServiceInput): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(app, input.name ?? app.name, input.annotations ? { annotations: input.annotations } : {}),
    spec: {
      type: input.type ?? 'ClusterIP',
      selector: selectorLabels(app),
      ports: input.ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort ?? p.name,
        protocol: p.protocol ?? 'TCP',
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
      ...input.spec,
    },
  };
}

/** The identity the app's pods run as; the token is mounted only into pods that name it. */
export function serviceAccount(app: App, name: string = app.name): IServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(app, name), automountServiceAccountToken: false };
}

export interface IngressInput {
  host: string;
  /** The Service and port (name or number) traffic goes to; the app's own Service by default. */
  service?: string;
  port: string | number;
  /** The IngressClass; the cluster's default (Traefik) when left out. */
  className?: string;
  path?: string;
  annotations?: Record<string, string>;
}

/** An Ingress for one host, all paths to one Service port. */
export function ingress(app: App, input: IngressInput): IIngress {
  const port = typeof input.port === 'number' ? { number: input.port } : { name: input.port };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(app, app.name, input.annotations ? { annotations: input.annotations } : {}),
    spec: {
      ...(input.className ? { ingressClassName: input.className } : {}),
      rules: [{ host: input.host, http: { paths: [{ path: input.path ?? '/', pathType: 'Prefix', backend: { service: { name: input.service ?? app.name, port } } }] } }],
    },
  };
}

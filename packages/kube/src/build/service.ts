import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { meta, objectName, selectorLabels, type App } from './labels.ts';

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
    metadata: meta(app, input.name ?? objectName(app), input.annotations ? { annotations: input.annotations } : {}),
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
export function serviceAccount(app: App, name: string = objectName(app)): IServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(app, name), automountServiceAccountToken: false };
}

export interface IngressPath {
  /** A path prefix, such as /webhook/. */
  path: string;
  service: string;
  port: string | number;
}

export interface IngressInput {
  host: string;
  /** The Service and port (name or number) traffic goes to; the app's own Service by default. */
  service?: string;
  port: string | number;
  /** The IngressClass; the cluster's default (Traefik) when left out. */
  className?: string;
  path?: string;
  /** Prefixes routed elsewhere; the longest matching prefix wins, everything else goes to `service`. */
  routes?: IngressPath[];
  annotations?: Record<string, string>;
}

const backend = (service: string, port: string | number) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } });

/** An Ingress for one host: everything to one Service port, except the prefixes `routes` sends elsewhere. */
export function ingress(app: App, input: IngressInput): IIngress {
  const paths = [
    ...(input.routes ?? []).map((r) => ({ path: r.path, pathType: 'Prefix' as const, backend: backend(r.service, r.port) })),
    { path: input.path ?? '/', pathType: 'Prefix' as const, backend: backend(input.service ?? objectName(app), input.port) },
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(app, objectName(app), input.annotations ? { annotations: input.annotations } : {}),
    spec: {
      ...(input.className ? { ingressClassName: input.className } : {}),
      rules: [{ host: input.host, http: { paths } }],
    },
  };
}

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { programPath } from '../programs.ts';
import { freePort } from '../services.ts';
import { scratchDir } from '../workspace.ts';
import type { ControlPlane } from './control-plane.ts';
import { serviceAccountToken } from './process-pod.ts';
import { startProgram, type Program } from './process.ts';

/**
 * Traefik's own Kubernetes Ingress provider and HTTP router (built at the version platform-core pins, under
 * tools/go/traefik/ingress-router), configured from the rendered Traefik Deployment's provider flags and run as
 * its ServiceAccount: it reads the Ingresses, Services and EndpointSlices, writes the Ingresses' status from
 * the published Service, and routes each request to the backend the test gives for the Traefik service it chose
 * (the response carries that choice in X-Traefik-Service). Traefik's full binary cannot be built here; TLS and
 * the entry points' redirections are not part of this check.
 */

export interface IngressRoute {
  name: string;
  rule: string;
  priority: number;
  service: string;
  servers: string[];
}

export interface IngressRouter {
  program: Program;
  /** Where to send requests (HTTP; the Host header picks the Ingress rule). */
  url: string;
  /** The routers Traefik's provider made from the Ingresses, once it has made them. */
  routes(): IngressRoute[];
  stop(): Promise<void>;
}

type Container = { args?: string[] };

/** The value of `--name=value` among the rendered arguments. */
const flag = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** The name Traefik's Ingress provider gives the service behind an Ingress backend (namespace-service-port). */
export const traefikServiceName = (namespace: string, service: string, port: number | string) => `${namespace}-${service}-${port}`;

export interface IngressRouterOptions {
  /** Traefik service name (traefikServiceName) to the URL standing for its pods. */
  backends?: Record<string, string>;
  /** The Traefik Deployment whose provider flags and ServiceAccount to use (default traefik/traefik). */
  namespace?: string;
  deployment?: string;
  /**
   * Provider settings and identity given directly, for a test without platform-core's rendered Traefik (the
   * ServiceAccount must be allowed what Traefik's is).
   */
  provider?: { ingressClass?: string; publishedService?: string; serviceAccount: { namespace: string; name: string } };
}

export async function startIngressRouter(plane: ControlPlane, options: IngressRouterOptions = {}): Promise<IngressRouter> {
  let ingressClass: string | undefined;
  let published: string | undefined;
  let account: { namespace: string; name: string };
  if (options.provider) {
    ({ ingressClass, publishedService: published } = options.provider);
    account = options.provider.serviceAccount;
  } else {
    const namespace = options.namespace ?? 'traefik';
    const name = options.deployment ?? 'traefik';
    const deployment = await plane.client.waitFor(`Deployment ${namespace}/${name} to be applied`, () => plane.client.get('apps/v1', 'Deployment', name, namespace), 120_000);
    const pod = (deployment.spec as { template: { spec: { containers: Container[]; serviceAccountName?: string } } }).template.spec;
    const args = pod.containers[0]!.args ?? [];
    if (flag(args, 'providers.kubernetesingress') !== 'true') throw new Error(`Deployment ${namespace}/${name} does not enable Traefik's Kubernetes Ingress provider`);
    ingressClass = flag(args, 'providers.kubernetesingress.ingressClass');
    published = flag(args, 'providers.kubernetesingress.ingressEndpoint.publishedService');
    account = { namespace, name: pod.serviceAccountName ?? 'default' };
  }
  const dir = scratchDir('gw-ingress-router-');
  const token = join(dir, 'token');
  writeFileSync(token, await serviceAccountToken(plane, account.namespace, account.name), { mode: 0o600 });
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, plane.spec.ca.crt);
  const backends = join(dir, 'backends.json');
  writeFileSync(backends, JSON.stringify(options.backends ?? {}));
  const routesFile = join(dir, 'routes.json');
  const port = await freePort();
  const program = startProgram('traefik-ingress-router', programPath('traefik-ingress-router'), [
    `--endpoint=${plane.url}`,
    `--token-file=${token}`,
    `--ca=${ca}`,
    ...(ingressClass ? [`--ingress-class=${ingressClass}`] : []),
    ...(published ? [`--published-service=${published}`] : []),
    `--listen=127.0.0.1:${port}`,
    `--backends=${backends}`,
    `--routes=${routesFile}`,
  ], join(dir, 'program.log'));
  return {
    program,
    url: `http://127.0.0.1:${port}`,
    routes: () => (existsSync(routesFile) ? (JSON.parse(readFileSync(routesFile, 'utf8')) as IngressRoute[]) : []),
    stop: () => program.stop(),
  };
}

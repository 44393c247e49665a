import type { LoadedCluster } from '@groundwork/cluster';
import { container, deployment, disruptionBudget, httpProbe, isolatedNamespace, networkPolicy, peers, secretKeyRef, selectorLabels, tcp, udp, type App, type Component } from '@groundwork/kube';
import { IMAGES, tagOf } from '../versions.ts';
import { TRAEFIK_NAMESPACE } from './traefik.ts';

const NAMESPACE = 'cloudflared';

/** A Cloudflare Tunnel connector: public hostnames reach Traefik without an open port at home. */
export function cloudflared(_cluster: LoadedCluster): Component {
  const app: App = { name: 'cloudflared', namespace: NAMESPACE, component: 'tunnel', partOf: 'cloudflared', version: tagOf(IMAGES.cloudflared) };
  const pods = selectorLabels(app);
  return {
    name: 'cloudflared',
    description: 'Cloudflare Tunnel connector (token from the SOPS secret cloudflared/cloudflared-tunnel)',
    objects: [
      ...isolatedNamespace(NAMESPACE, 'restricted'),
      networkPolicy(NAMESPACE, 'cloudflared', {
        pods,
        egress: [
          // Cloudflare's edge: QUIC or HTTP/2 on 7844, the API on 443.
          { peers: [peers.internet()], ports: [...udp(7844), ...tcp(7844, 443)] },
          { peers: [peers.pods(TRAEFIK_NAMESPACE, { 'app.kubernetes.io/name': 'traefik' })], ports: tcp(8000, 8443) },
        ],
      }),
      deployment(app, {
        replicas: 2,
        pod: {
          containers: [
            container({
              name: 'cloudflared',
              image: IMAGES.cloudflared,
              goMemoryLimit: true,
              args: ['tunnel', '--no-autoupdate', '--metrics', '0.0.0.0:2000', 'run'],
              env: { TUNNEL_TOKEN: secretKeyRef('cloudflared-tunnel', 'token') },
              ports: { metrics: 2000 },
              resources: { cpu: '20m', memory: '48Mi', memoryLimit: '192Mi' },
              // /ready answers 200 once the connector holds a connection to Cloudflare's edge.
              liveness: httpProbe('/ready', 'metrics', { initialDelaySeconds: 10, failureThreshold: 5 }),
              readiness: httpProbe('/ready', 'metrics'),
            }),
          ],
        },
      }),
      disruptionBudget(app),
    ],
  };
}


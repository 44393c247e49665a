import { defineSecrets } from '@groundwork/secrets-sops';

/** Secrets platform-core needs; secrets-sops finds this file by path and keeps them SOPS-encrypted. */
export default defineSecrets('platform-core', [
  {
    namespace: 'cloudflared',
    name: 'cloudflared-tunnel',
    description: 'Token of the Cloudflare Tunnel that cloudflared connects with.',
    keys: {
      token: { provided: 'Cloudflare Zero Trust dashboard → Networks → Tunnels → your tunnel → Install connector → the token after --token' },
    },
    when: (cluster) => cluster.features.cloudflareTunnel.enabled,
  },
]);

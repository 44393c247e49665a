import { UserError } from './errors.ts';

/**
 * Where to connect for a host:port. Normally the address itself; GROUNDWORK_ADDRESS_MAP can send a
 * node's address elsewhere (an SSH tunnel, a port-forward, or the loopback servers tests start):
 * `10.0.1.11:50000=127.0.0.1:40001,10.0.1.10:6443=127.0.0.1:40002`. TLS still checks the original name.
 */
export interface Address {
  host: string;
  port: number;
}

export function parseAddressMap(text: string | undefined): Map<string, Address> {
  const map = new Map<string, Address>();
  for (const entry of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(.+):(\d+)=(.+):(\d+)$/.exec(entry);
    if (!match) throw new UserError(`GROUNDWORK_ADDRESS_MAP: "${entry}" is not host:port=host:port`);
    map.set(`${match[1]}:${match[2]}`, { host: match[3]!, port: Number(match[4]) });
  }
  return map;
}

export function addressResolver(env: NodeJS.ProcessEnv = process.env): (host: string, port: number) => Address {
  const map = parseAddressMap(env.GROUNDWORK_ADDRESS_MAP);
  return (host, port) => map.get(`${host}:${port}`) ?? { host, port };
}

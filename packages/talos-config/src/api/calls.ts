import { formatDuration, type Address, type Logger } from '@groundwork/kit';
import { TalosClient, type Credentials } from './client.ts';
import { PORTS } from '../versions.ts';

/**
 * The two shapes every multi-step Talos operation (apply, upgrades, node lifecycle) is built from: one call
 * to a node through a client that is closed afterwards, and a wait that polls until a step answers.
 */

/** A call to the node at `address` (its apid, wherever the address map sends it; TLS checks the address). */
export async function withNode<T>(ctx: { resolve: (host: string, port: number) => Address; timeouts: { callMs: number } }, address: string, credentials: Credentials, use: (client: TalosClient) => Promise<T>, timeoutMs = ctx.timeouts.callMs): Promise<T> {
  const target = ctx.resolve(address, PORTS.apid);
  const client = new TalosClient({ ...target, serverName: address }, credentials, { timeoutMs });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Polls until `attempt` returns a value; the last error is part of the failure. */
export async function waitFor<T>(ctx: { log: Logger; timeouts: { pollMs: number } }, label: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  return ctx.log.progress(label, async () => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const value = await attempt();
        if (value !== undefined) return value;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${label}: gave up after ${formatDuration(timeoutMs)}${last ? ` (last error: ${last})` : ''}`);
      await new Promise((r) => setTimeout(r, ctx.timeouts.pollMs));
    }
  });
}

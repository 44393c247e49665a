import { controlPlanes } from '@groundwork/cluster';
import type { EtcdMember, EtcdMemberStatus } from '../api/client.ts';
import { askAll, talos, type Day2Context } from './context.ts';

/**
 * etcd as the control planes report it, and whether it can lose a member. Talos 1.13's upgrade call checks
 * nothing about etcd (only the deprecated MachineService.Upgrade did), so the client must: every control plane
 * answers, reports no errors, follows the same leader, and is a voting member; and after one member goes down
 * the rest still make a quorum.
 */

export interface EtcdView {
  members: EtcdMember[];
  /** Each control plane's own status, or why it did not answer. */
  statuses: Map<string, EtcdMemberStatus | Error>;
  /** The leader's hostname, when the members agree on one. */
  leader: string | undefined;
  problems: string[];
}

export async function etcdView(ctx: Day2Context): Promise<EtcdView> {
  const planes = controlPlanes(ctx.cluster);
  const statuses = await askAll(ctx, planes, (c) => c.etcdStatus());
  const problems: string[] = [];
  let members: EtcdMember[] = [];
  const answering = planes.filter((n) => !(statuses.get(n.name) instanceof Error));
  if (answering.length) {
    try {
      members = await talos(ctx, answering[0]!, (c) => c.etcdMembers(), ctx.timeouts.probeMs);
    } catch (error) {
      problems.push(`etcd members could not be listed on ${answering[0]!.name}: ${(error as Error).message}`);
    }
  }
  const leaders = new Set<string>();
  for (const node of planes) {
    const status = statuses.get(node.name)!;
    if (status instanceof Error) {
      problems.push(`${node.name}: etcd status not available (${status.message})`);
      continue;
    }
    if (status.errors.length) problems.push(`${node.name}: etcd reports ${status.errors.join('; ')}`);
    if (status.isLearner) problems.push(`${node.name}: still an etcd learner (not voting yet)`);
    if (status.leader && status.leader !== '0') leaders.add(status.leader);
    else problems.push(`${node.name}: etcd has no leader`);
  }
  if (leaders.size > 1) problems.push(`the control planes follow different etcd leaders (${[...leaders].join(', ')})`);
  const names = new Set(planes.map((n) => n.name));
  for (const member of members) if (!names.has(member.hostname)) problems.push(`etcd member ${member.hostname} (${BigInt(member.id).toString(16).padStart(16, '0')}) is not a control plane in the cluster file`);
  for (const node of answering) if (members.length && !members.some((m) => m.hostname === node.name)) problems.push(`${node.name} is not an etcd member`);
  const leaderId = leaders.size === 1 ? [...leaders][0] : undefined;
  return { members, statuses, leader: members.find((m) => m.id === leaderId)?.hostname, problems };
}

/**
 * Whether taking one member down keeps a quorum. A single member has none to keep (Kubernetes pauses while it
 * is down, which a one-control-plane cluster accepts); two members lose it with either one.
 */
export function canLoseOne(view: EtcdView): { ok: boolean; single: boolean; reason: string } {
  const voters = view.members.filter((m) => !m.isLearner).length;
  if (voters <= 1) return { ok: true, single: true, reason: 'etcd has one member: the Kubernetes API is unavailable while it is down' };
  const healthy = [...view.statuses.values()].filter((s) => !(s instanceof Error) && s.errors.length === 0).length;
  const quorum = Math.floor(voters / 2) + 1;
  if (healthy - 1 >= quorum) return { ok: true, single: false, reason: `${healthy} of ${voters} members healthy; ${healthy - 1} keep the quorum of ${quorum}` };
  return { ok: false, single: false, reason: `${healthy} of ${voters} etcd members are healthy: with one more down the remaining ${healthy - 1} are below the quorum of ${quorum}` };
}

export const memberIdHex = (id: string) => BigInt(id).toString(16).padStart(16, '0');

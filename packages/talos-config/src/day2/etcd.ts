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

/**
 * etcd's health from the control planes' answers, for every command that judges it (upgrades, node removal,
 * gw-status): every control plane answers EtcdStatus without errors, is a voting member, no member is unknown to
 * the cluster file, and all follow one leader (a split view means a partition or an election in progress).
 */
export function etcdProblems(controlPlanes: string[], statuses: Array<{ node: string; status: EtcdMemberStatus | Error }>, members: EtcdMember[] | Error): { problems: string[]; leaderId: string | undefined } {
  const problems: string[] = [];
  for (const { node, status } of statuses) {
    if (status instanceof Error) problems.push(`${node} did not answer EtcdStatus: ${status.message}`);
    else for (const error of status.errors) problems.push(`${node} reports: ${error}`);
  }
  if (members instanceof Error) problems.push(`no control plane listed the etcd members (${members.message})`);
  else {
    for (const name of controlPlanes) {
      const member = members.find((m) => m.hostname === name);
      if (!member) problems.push(`${name} is not an etcd member`);
      else if (member.isLearner) problems.push(`${name} is still a learner (not voting)`);
    }
    for (const member of members) if (!controlPlanes.includes(member.hostname)) problems.push(`etcd member ${member.hostname} (${memberIdHex(member.id)}) is not a control plane in the cluster file`);
  }
  const answered = statuses.filter((s): s is { node: string; status: EtcdMemberStatus } => !(s.status instanceof Error));
  const leaders = [...new Set(answered.map((s) => s.status.leader).filter((l) => l && l !== '0'))];
  if (leaders.length > 1) problems.push(`control planes disagree on the leader: ${answered.map((s) => `${s.node} follows ${s.status.leader}`).join(', ')}`);
  else if (answered.length && leaders.length === 0) problems.push('etcd has no leader');
  return { problems, leaderId: leaders.length === 1 ? leaders[0] : undefined };
}

export async function etcdView(ctx: Day2Context): Promise<EtcdView> {
  const planes = controlPlanes(ctx.cluster);
  const statuses = await askAll(ctx, planes, (c) => c.etcdStatus());
  const answering = planes.filter((n) => !(statuses.get(n.name) instanceof Error));
  let members: EtcdMember[] | Error = new Error('no control plane answered');
  if (answering.length) members = await talos(ctx, answering[0]!, (c) => c.etcdMembers(), ctx.timeouts.probeMs).catch((error: Error) => error);
  const judged = etcdProblems(planes.map((n) => n.name), planes.map((n) => ({ node: n.name, status: statuses.get(n.name)! })), members);
  const list = members instanceof Error ? [] : members;
  return { members: list, statuses, leader: list.find((m) => m.id === judged.leaderId)?.hostname, problems: judged.problems };
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

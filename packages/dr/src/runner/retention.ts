/**
 * Grandfather-father-son retention, as restic's `forget --keep-last/--keep-daily/--keep-weekly/--keep-monthly`
 * reads it: the newest N backups are kept; walking from the newest back, the first one seen in a day is that
 * day's backup, and the newest N days that have one are kept; the same for ISO weeks and calendar months
 * (UTC). A backup kept by any rule stays. Days without backups do not use up the count, so a week of failed
 * runs never costs the old backups that are left.
 */

export interface Retention {
  last: number;
  daily: number;
  weekly: number;
  monthly: number;
}

export function parseRetention(text: string): Retention {
  const out: Retention = { last: 0, daily: 0, weekly: 0, monthly: 0 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(last|daily|weekly|monthly)=(\d+)$/.exec(part);
    if (!match) throw new Error(`retention: "${part}" is not last=N, daily=N, weekly=N or monthly=N`);
    out[match[1] as keyof Retention] = Number(match[2]);
  }
  if (out.last + out.daily + out.weekly + out.monthly === 0) throw new Error('retention keeps nothing: every backup would be deleted');
  return out;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/** ISO 8601 week: the week belongs to the year of its Thursday. */
export function isoWeek(ms: number): string {
  const date = new Date(ms);
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 4 - (date.getUTCDay() || 7)));
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The times (epoch ms) to keep, of the given backup times. */
export function keep(times: number[], retention: Retention): Set<number> {
  const newestFirst = [...new Set(times)].sort((a, b) => b - a);
  const kept = new Set<number>(newestFirst.slice(0, retention.last));
  for (const [count, period] of [
    [retention.daily, day],
    [retention.weekly, isoWeek],
    [retention.monthly, month],
  ] as const) {
    const seen = new Set<string>();
    for (const time of newestFirst) {
      if (seen.size >= count) break;
      const key = period(time);
      if (seen.has(key)) continue;
      seen.add(key);
      kept.add(time);
    }
  }
  return kept;
}

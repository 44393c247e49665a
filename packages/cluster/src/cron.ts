/**
 * Cron schedules as Kubernetes CronJobs read them (five fields, or @hourly and friends), evaluated in UTC.
 * The cluster file validates them here, and the backup alerts, live checks and drills derive from them how
 * old the newest backup may be: the longest gap between two runs, whatever the schedule's shape.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  // 7 is Sunday too, as in every cron.
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** A field written as `*` (or `*\/n`): then day of month and day of week must both match, else either. */
  anyDay: boolean;
  anyWeekday: boolean;
}

export class CronError extends Error {}

function value(field: Field, text: string): number {
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  const n = index >= 0 ? index + (field.min === 1 ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < field.min || n > field.max) throw new CronError(`${field.name} "${text}" is not between ${field.min} and ${field.max}`);
  return n;
}

function parseField(field: Field, text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new CronError(`${field.name} "${part}" is not a value, range, list or step`);
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1) throw new CronError(`${field.name} step "${match[2]}" must be at least 1`);
    let [from, to] = [field.min, field.max];
    if (match[1] !== '*') {
      const [a, b] = match[1]!.split('-');
      from = value(field, a!);
      to = b === undefined ? (match[2] === undefined ? from : field.max) : value(field, b);
      if (to < from) throw new CronError(`${field.name} range "${match[1]}" runs backwards`);
    }
    for (let n = from; n <= to; n += step) out.add(field.name === 'day of week' && n === 7 ? 0 : n);
  }
  return out;
}

export function parseCron(text: string): CronSchedule {
  const expanded = MACROS[text.trim().toLowerCase()] ?? text.trim();
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new CronError('expected five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly');
  const sets = parts.map((part, i) => parseField(FIELDS[i]!, part));
  const schedule: CronSchedule = {
    minutes: sets[0]!,
    hours: sets[1]!,
    days: sets[2]!,
    months: sets[3]!,
    weekdays: sets[4]!,
    anyDay: parts[2]!.startsWith('*'),
    anyWeekday: parts[4]!.startsWith('*'),
  };
  if (![...schedule.days].some((d) => [...schedule.months].some((m) => d <= daysIn(m, 2024)))) throw new CronError(`day of month "${parts[2]}" never occurs in month "${parts[3]}"`);
  return schedule;
}

/** The problem with a schedule, or undefined when it is a valid one. */
export function cronProblem(text: string): string | undefined {
  try {
    parseCron(text);
    return undefined;
  } catch (error) {
    if (error instanceof CronError) return error.message;
    throw error;
  }
}

function daysIn(month: number, year: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const day = schedule.days.has(date.getUTCDate());
  const weekday = schedule.weekdays.has(date.getUTCDay());
  if (schedule.anyDay || schedule.anyWeekday) return day && weekday;
  return day || weekday;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Every run from `from` (inclusive) to `to` (exclusive), in UTC, as epoch milliseconds. */
export function runsBetween(schedule: CronSchedule, from: number, to: number): number[] {
  const out: number[] = [];
  const hours = [...schedule.hours].sort((a, b) => a - b);
  const minutes = [...schedule.minutes].sort((a, b) => a - b);
  for (let day = Math.floor(from / DAY) * DAY; day < to; day += DAY) {
    const date = new Date(day);
    if (!schedule.months.has(date.getUTCMonth() + 1) || !dayMatches(schedule, date)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = day + hour * 3_600_000 + minute * MINUTE;
        if (at >= from && at < to) out.push(at);
      }
    }
  }
  return out;
}

/** The most recent run at or before `now`, looking back at most `horizonDays`. */
export function previousRun(text: string, now: number, horizonDays = 400): number | undefined {
  const runs = runsBetween(parseCron(text), now - horizonDays * DAY, now + 1);
  return runs.at(-1);
}

/**
 * The longest time between two consecutive runs, in seconds, over two years from a fixed start (so the
 * answer never depends on today's date). A schedule that runs once or never in that span counts as yearly.
 */
export function longestGapSeconds(text: string): number {
  const start = Date.UTC(2025, 0, 1);
  const runs = runsBetween(parseCron(text), start, start + 731 * DAY);
  let gap = 0;
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i]! - runs[i - 1]!);
  return runs.length < 2 ? 366 * 86_400 : gap / 1000;
}

/**
 * How old the newest good run may be before it counts as missing: one missed run is tolerated (a node
 * reboot, a busy bucket), two are not, and an hour covers the run itself.
 */
export function allowedAgeSeconds(schedule: string): number {
  return 2 * longestGapSeconds(schedule) + 3600;
}

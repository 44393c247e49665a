import { describe, expect, it } from 'vitest';
import { allowedAgeSeconds, cronProblem, longestGapSeconds, previousRun, runsBetween, parseCron } from './cron.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;
const DAY_MS = DAY * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('cron schedules', () => {
  it('accepts what CronJobs accept: values, ranges, lists, steps, names and macros', () => {
    for (const ok of ['0 */6 * * *', '30 1 * * *', '*/15 * * * *', '0 9 * * MON-FRI', '0 0 1,15 * *', '5 4 * JAN,JUL SUN', '0 0 * * 7', '@daily', '@weekly', '@hourly', '0 22-23/1 * * *']) {
      expect(cronProblem(ok), ok).toBeUndefined();
    }
  });

  it('names what is wrong with a schedule it refuses', () => {
    expect(cronProblem('0 */6 * *')).toMatch(/expected five fields/);
    expect(cronProblem('60 * * * *')).toBe('minute "60" is not between 0 and 59');
    expect(cronProblem('0 0 * * FUNDAY')).toBe('day of week "FUNDAY" is not between 0 and 7');
    expect(cronProblem('0 0 5-1 * *')).toBe('day of month range "5-1" runs backwards');
    expect(cronProblem('*/0 * * * *')).toBe('minute step "0" must be at least 1');
    expect(cronProblem('0 0 30 2 *')).toBe('day of month "30" never occurs in month "2"');
  });

  it('lists the runs of a day in UTC', () => {
    const day = Date.UTC(2026, 10, 30);
    expect(runsBetween(parseCron('0 */6 * * *'), day, day + DAY_MS).map(iso)).toEqual(['2026-11-30T00:00:00.000Z', '2026-11-30T06:00:00.000Z', '2026-11-30T12:00:00.000Z', '2026-11-30T18:00:00.000Z']);
    expect(runsBetween(parseCron('30 1 * * *'), day, day + 2 * DAY_MS).map(iso)).toEqual(['2026-11-30T01:30:00.000Z', '2026-12-01T01:30:00.000Z']);
  });

  it('runs on either the day of month or the weekday when both are restricted, as cron does', () => {
    // December 2026: the 1st is a Tuesday; Mondays are the 7th, 14th, 21st and 28th.
    const runs = runsBetween(parseCron('0 0 1 * MON'), Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)).map((ms) => new Date(ms).getUTCDate());
    expect(runs).toEqual([1, 7, 14, 21, 28]);
  });

  it('finds the longest gap between runs, whatever the schedule looks like', () => {
    expect(longestGapSeconds('*/15 * * * *')).toBe(15 * 60);
    expect(longestGapSeconds('0 */6 * * *')).toBe(6 * HOUR);
    expect(longestGapSeconds('30 1 * * *')).toBe(DAY);
    expect(longestGapSeconds('0 3 * * 0')).toBe(7 * DAY);
    // Friday 09:00 to Monday 09:00.
    expect(longestGapSeconds('0 9 * * 1-5')).toBe(3 * DAY);
    // Uneven hours: 12:00 to 22:00 is the long one (22:00 to 06:00 is 8 hours).
    expect(longestGapSeconds('0 6,12,22 * * *')).toBe(10 * HOUR);
    // 31-day months.
    expect(longestGapSeconds('@monthly')).toBe(31 * DAY);
  });

  it('allows one missed run plus an hour before a backup counts as too old', () => {
    expect(allowedAgeSeconds('0 */6 * * *')).toBe(13 * HOUR);
    expect(allowedAgeSeconds('30 1 * * *')).toBe(49 * HOUR);
  });

  it('finds the run a backup should have come from', () => {
    const now = Date.UTC(2026, 10, 30, 4, 10);
    expect(iso(previousRun('30 1 * * *', now)!)).toBe('2026-11-30T01:30:00.000Z');
    expect(iso(previousRun('0 */6 * * *', now)!)).toBe('2026-11-30T00:00:00.000Z');
  });
});

import { describe, expect, it } from 'vitest';
import { backupFile, parseBackupFile, pickBackup, stamp } from './naming.ts';
import { isoWeek, keep, parseRetention } from './retention.ts';

const HOUR = 3_600_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('backup names', () => {
  it('carry the cluster, the kind and the UTC second, and read back', () => {
    const at = Date.UTC(2026, 10, 30, 1, 30, 5);
    const file = backupFile('pi-fleet', 'postgres', at);
    expect(file).toBe('pi-fleet-postgres-20261130T013005Z.dump.age');
    expect(parseBackupFile(file, 'pi-fleet', 'postgres')).toEqual({ cluster: 'pi-fleet', kind: 'postgres', takenAt: at, file });
    expect(stamp(at)).toBe('20261130T013005Z');
  });

  it('never take another cluster\'s, another kind\'s or a stranger\'s file for one of ours', () => {
    expect(parseBackupFile('lab-postgres-20261130T013005Z.dump.age', 'pi-fleet', 'postgres')).toBeUndefined();
    expect(parseBackupFile('pi-fleet-etcd-20261130T013005Z.db.age', 'pi-fleet', 'postgres')).toBeUndefined();
    expect(parseBackupFile('pi-fleet-postgres-20261130T013005Z.dump', 'pi-fleet', 'postgres')).toBeUndefined();
    expect(parseBackupFile('pi-fleet-postgres-20261340T013005Z.dump.age', 'pi-fleet', 'postgres')).toBeUndefined();
    expect(parseBackupFile('notes.txt', 'pi-fleet', 'postgres')).toBeUndefined();
    // A cluster whose name contains the kind's pattern still parses exactly.
    expect(parseBackupFile('etcd-lab-etcd-20261130T000000Z.db.age', 'etcd-lab', 'etcd')?.takenAt).toBe(Date.UTC(2026, 10, 30));
  });

  it('pick the newest, the newest at or before a time, or one by name', () => {
    const times = [Date.UTC(2026, 10, 28, 1, 30), Date.UTC(2026, 10, 29, 1, 30), Date.UTC(2026, 10, 30, 1, 30)];
    const backups = times.map((t) => parseBackupFile(backupFile('c', 'postgres', t), 'c', 'postgres')!);
    expect(pickBackup(backups)?.takenAt).toBe(times[2]);
    expect(pickBackup(backups, '2026-11-29T12:00:00Z')?.takenAt).toBe(times[1]);
    expect(pickBackup(backups, '2026-11-29T12:00')?.takenAt).toBe(times[1]);
    expect(pickBackup(backups, '2026-11-28')?.takenAt).toBe(times[0]);
    expect(pickBackup(backups, '2026-11-27')).toBeUndefined();
    expect(pickBackup(backups, backups[0]!.file)?.takenAt).toBe(times[0]);
    expect(() => pickBackup(backups, 'yesterday')).toThrow(/not latest, a backup file name or a time/);
  });
});

describe('retention', () => {
  it('reads the runner\'s setting and refuses one that keeps nothing', () => {
    expect(parseRetention('last=4,daily=7,weekly=4,monthly=6')).toEqual({ last: 4, daily: 7, weekly: 4, monthly: 6 });
    expect(() => parseRetention('daily=0')).toThrow(/keeps nothing/);
    expect(() => parseRetention('hourly=3')).toThrow(/is not last=N, daily=N, weekly=N or monthly=N/);
  });

  it('numbers ISO weeks across year ends', () => {
    expect(isoWeek(Date.UTC(2026, 11, 31))).toBe('2026-W53');
    expect(isoWeek(Date.UTC(2027, 0, 3))).toBe('2026-W53');
    expect(isoWeek(Date.UTC(2027, 0, 4))).toBe('2027-W01');
    expect(isoWeek(Date.UTC(2025, 11, 29))).toBe('2026-W01');
  });

  it('keeps exactly the configured days, weeks and months across a simulated season of backups', () => {
    // Four runs a day (every six hours) from 1 August to 30 November 2026, pruning after each run as the job does.
    const policy = { last: 0, daily: 7, weekly: 4, monthly: 3 };
    let stored: number[] = [];
    for (let t = Date.UTC(2026, 7, 1); t <= Date.UTC(2026, 10, 30, 18); t += 6 * HOUR) {
      stored.push(t);
      const kept = keep(stored, policy);
      expect(kept.has(t), 'the backup just taken is always kept').toBe(true);
      stored = stored.filter((s) => kept.has(s));
    }
    const days = stored.map(day).sort();
    // Daily: the newest run (18:00) of each of the last 7 days.
    const daily = Array.from({ length: 7 }, (_, i) => Date.UTC(2026, 10, 30 - i, 18));
    for (const t of daily) expect(stored).toContain(t);
    // Weekly: the newest run of each of the last 4 ISO weeks (Sundays 18:00, the current week's newest is today's).
    const weekly = [Date.UTC(2026, 10, 30, 18), Date.UTC(2026, 10, 29, 18), Date.UTC(2026, 10, 22, 18), Date.UTC(2026, 10, 15, 18)];
    for (const t of weekly) expect(stored).toContain(t);
    // Monthly: the newest run of November, October and September (their last days at 18:00).
    const monthly = [Date.UTC(2026, 10, 30, 18), Date.UTC(2026, 9, 31, 18), Date.UTC(2026, 8, 30, 18)];
    for (const t of monthly) expect(stored).toContain(t);
    expect(new Set(stored)).toEqual(new Set([...daily, ...weekly, ...monthly]));
    // 7 days, plus 2 older weeks, plus 2 older months: 11 backups from four months of four a day.
    expect(stored).toHaveLength(11);
    expect(days[0]).toBe('2026-09-30');
  });

  it('keeps the newest few whenever they were taken, so several runs a day survive the next run', () => {
    // etcd every six hours for three days: daily alone would keep one a day, last=4 the whole last day too.
    const times = Array.from({ length: 12 }, (_, i) => Date.UTC(2026, 10, 28) + i * 6 * HOUR);
    const kept = [...keep(times, { last: 4, daily: 7, weekly: 0, monthly: 0 })].sort((a, b) => a - b).map((t) => new Date(t).toISOString().slice(5, 13));
    expect(kept).toEqual(['11-28T18', '11-29T18', '11-30T00', '11-30T06', '11-30T12', '11-30T18']);
  });

  it('does not spend its count on days without a backup', () => {
    // A week of failed runs: the last 7 days that have a backup are kept, however far back they go.
    const times = [...Array.from({ length: 10 }, (_, i) => Date.UTC(2026, 10, 10 + i, 1, 30)), Date.UTC(2026, 10, 30, 1, 30)];
    const kept = [...keep(times, { last: 0, daily: 7, weekly: 0, monthly: 0 })].sort((a, b) => a - b).map(day);
    expect(kept).toEqual(['2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-30']);
  });
});

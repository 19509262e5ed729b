import { describe, expect, it } from 'vitest';
import {
  DIGEST_CATCH_UP_WEEKS,
  dueDigestWeeks,
  lastWholeWeekStart,
  weekEnd,
  weekName,
} from '../../core/weekly-digest.ts';

describe('the week a digest covers', () => {
  it('is the last whole Monday-to-Monday week (UTC) before now, whatever the day', () => {
    // 2026-12-03 is a Thursday: the last whole week began Monday 2026-11-23.
    expect(weekName(lastWholeWeekStart(new Date('2026-12-03T10:00:00Z')))).toBe('2026-11-23');
    // On a Monday just after midnight, the week that just ended is due.
    expect(weekName(lastWholeWeekStart(new Date('2026-11-30T00:00:01Z')))).toBe('2026-11-23');
    // A Sunday evening still belongs to the running week.
    expect(weekName(lastWholeWeekStart(new Date('2026-11-29T23:59:59Z')))).toBe('2026-11-16');
    expect(weekEnd(new Date('2026-11-23T00:00:00Z')).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });
});

describe('the weeks a pass composes', () => {
  const thursday = new Date('2026-12-03T10:00:00Z'); // last whole week: 2026-11-23
  const names = (weeks: Date[]) => weeks.map(weekName);

  it('is the last whole week once the week before it is taken, or when none ever was; none once it is taken', () => {
    expect(names(dueDigestWeeks(thursday, '2026-11-16'))).toEqual(['2026-11-23']);
    expect(names(dueDigestWeeks(thursday, null))).toEqual(['2026-11-23']);
    expect(dueDigestWeeks(thursday, '2026-11-23')).toEqual([]);
  });

  it('after a clock jump or an outage: every week since the last one taken, oldest first, at most the cap', () => {
    // The clock jumped 31 days: the week it jumped out of and the three it jumped over.
    expect(names(dueDigestWeeks(new Date('2027-01-03T10:00:00Z'), '2026-11-23'))).toEqual([
      '2026-11-30',
      '2026-12-07',
      '2026-12-14',
      '2026-12-21',
    ]);
    const yearsLater = dueDigestWeeks(new Date('2031-01-08T12:00:00Z'), '2026-11-23');
    expect(yearsLater).toHaveLength(DIGEST_CATCH_UP_WEEKS);
    expect(weekName(yearsLater.at(-1) as Date)).toBe(weekName(lastWholeWeekStart(new Date('2031-01-08T12:00:00Z'))));
  });

  it('none while the last week taken lies ahead (the clock went back)', () => {
    expect(dueDigestWeeks(thursday, '2027-01-04')).toEqual([]);
  });
});

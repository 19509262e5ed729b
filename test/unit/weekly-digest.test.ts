import { describe, expect, it } from 'vitest';
import { lastWholeWeekStart, weekEnd, weekName } from '../../core/weekly-digest.ts';

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

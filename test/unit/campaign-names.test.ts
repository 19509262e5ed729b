import { describe, expect, it } from 'vitest';
import { defaultCampaignName, firstFreeName } from '../../core/campaign-names.ts';

describe('default campaign names', () => {
  it('names a campaign by its offer and the day, in UTC', () => {
    expect(defaultCampaignName('Managed IT', new Date('2026-12-03T23:59:59.999Z'))).toBe('Managed IT – 2026-12-03');
  });

  it('numbers a name already taken from 2, skipping the numbers taken too', () => {
    const base = 'Managed IT – 2026-12-03';
    expect(firstFreeName(base, new Set())).toBe(base);
    expect(firstFreeName(base, new Set([base]))).toBe(`${base} (2)`);
    expect(firstFreeName(base, new Set([base, `${base} (2)`, `${base} (4)`]))).toBe(`${base} (3)`);
    expect(firstFreeName(base, new Set([`${base} (2)`]))).toBe(base);
  });
});

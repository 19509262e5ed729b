import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { FailedRecipient } from '../../cli/campaign-failed.ts';
import { checkRecipientsFile, dataRowLines, formatRejectedRow, sendIdempotencyKey } from '../../cli/campaign-send.ts';
import {
  type CampaignView,
  campaignExitCode,
  campaignProgress,
  campaignSummaryJson,
  etaSeconds,
  fitToWidth,
  formatCampaignSummary,
  formatDuration,
  formatProgressLine,
  renderBar,
  updateRate,
} from '../../cli/progress.ts';
import { delegationStates } from '../../core/delegation-machine.ts';
import { recipientExportHeader, recipientExportLine } from '../../core/recipient-export.ts';

const counts = (values: Partial<CampaignView['counts']>): CampaignView['counts'] => ({
  ...(Object.fromEntries(delegationStates.map((s) => [s, 0])) as CampaignView['counts']),
  ...values,
});

const view = (values: Partial<CampaignView['counts']>, extra: Partial<CampaignView> = {}): CampaignView => {
  const c = counts(values);
  return {
    id: 'cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e',
    name: 'Managed IT',
    offerId: 'ofr_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e',
    total: Object.values(c).reduce((a, b) => a + b, 0),
    rejectedCount: 0,
    counts: c,
    done: c.invited === 0,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
};

describe('campaignProgress', () => {
  it('counts every state past the email as sent, failed as failed, invited as remaining', () => {
    expect(
      campaignProgress(
        view({ invited: 3, offered: 10, accepting: 1, active: 2, declined: 1, expired: 1, terminated: 1, failed: 4 }),
      ),
    ).toEqual({ total: 23, sent: 16, failed: 4, remaining: 3, done: false });
  });
});

describe('updateRate', () => {
  it('has no rate from one sample, then the instantaneous rate, then a time-weighted average', () => {
    const first = updateRate(undefined, 0, 0);
    expect(first.perSecond).toBeUndefined();
    const second = updateRate(first, 100, 1000);
    expect(second.perSecond).toBe(100);
    // After one half-life at 0 msg/s, half the weight has moved to the new rate.
    const third = updateRate(second, 100, 11_000);
    expect(third.perSecond).toBeCloseTo(50, 6);
  });

  it('smooths a burst instead of jumping to it', () => {
    let rate = updateRate(updateRate(undefined, 0, 0), 10, 1000);
    rate = updateRate(rate, 1010, 2000);
    expect(rate.perSecond).toBeGreaterThan(10);
    expect(rate.perSecond).toBeLessThan(100);
  });

  it('treats work flowing back (a retry) as no progress, and ignores a sample at the same instant', () => {
    const base = updateRate(updateRate(undefined, 50, 0), 50, 1000);
    expect(updateRate(base, 40, 2000).perSecond).toBe(0);
    expect(updateRate(base, 60, 1000)).toEqual({ ...base, processed: 60 });
  });
});

describe('etaSeconds and formatDuration', () => {
  it('divides what remains by the rate, and says nothing without a rate', () => {
    expect(etaSeconds(500, 100)).toBe(5);
    expect(etaSeconds(0, undefined)).toBe(0);
    expect(etaSeconds(10, undefined)).toBeUndefined();
    expect(etaSeconds(10, 0)).toBeUndefined();
  });

  it.each([
    [0, '0s'],
    [0.2, '1s'],
    [59, '59s'],
    [60, '1m00s'],
    [185, '3m05s'],
    [3600, '1h00m'],
    [7620, '2h07m'],
  ])('%s seconds → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('renderBar', () => {
  it('fills with the processed share and is full only at the end', () => {
    expect(renderBar(0, 100, 10)).toBe('[----------]');
    expect(renderBar(50, 100, 10)).toBe('[#####-----]');
    expect(renderBar(999, 1000, 10)).toBe('[#########-]');
    expect(renderBar(1000, 1000, 10)).toBe('[##########]');
    expect(renderBar(0, 0, 10)).toBe('[##########]');
  });
});

describe('formatProgressLine', () => {
  it('shows the bar, percentage, counts, rate and ETA', () => {
    const line = formatProgressLine(campaignProgress(view({ invited: 89_754, offered: 10_234, failed: 12 })), 96.4);
    expect(line).toBe(
      '[##----------------------]  10% · 10,234 sent · 12 failed · 89,754 remaining · 96 msg/s · ETA 15m32s',
    );
  });

  it('says so when the rate is not known yet, and when done', () => {
    expect(formatProgressLine(campaignProgress(view({ invited: 5 })), undefined)).toContain('– msg/s · ETA –');
    expect(formatProgressLine(campaignProgress(view({ offered: 4, failed: 1 })), 2.25)).toMatch(
      /^\[#{24}\] 100% · 4 sent · 1 failed · 0 remaining · 2\.3 msg\/s · done$/,
    );
  });

  it('is cut to the terminal width so a redraw never wraps', () => {
    expect(fitToWidth('x'.repeat(100), 40)).toHaveLength(39);
    expect(fitToWidth('short', 40)).toBe('short');
    expect(fitToWidth('short', undefined)).toBe('short');
  });
});

describe('campaignExitCode and the summary', () => {
  it('is 0 only when everything was sent and nothing rejected', () => {
    expect(campaignExitCode(campaignProgress(view({ offered: 5 })), 0)).toBe(0);
    expect(campaignExitCode(campaignProgress(view({ offered: 5, failed: 1 })), 0)).toBe(1);
    expect(campaignExitCode(campaignProgress(view({ offered: 5 })), 2)).toBe(0);
    expect(campaignExitCode(campaignProgress(view({ offered: 5, invited: 1 })), 0)).toBe(3);
    expect(campaignExitCode(campaignProgress(view({ failed: 1, invited: 1 })), 0)).toBe(1);
  });

  it('prints one JSON line with the counts', () => {
    const json = JSON.parse(campaignSummaryJson(view({ offered: 47, active: 1, failed: 1 }, { rejectedCount: 2 })));
    expect(json).toMatchObject({ total: 49, sent: 48, failed: 1, remaining: 0, rejected: 2, done: true });
    expect(json.counts.offered).toBe(47);
  });

  it('tells a person what happened and where the failures are', () => {
    const text = formatCampaignSummary(view({ offered: 47, active: 1, failed: 1 }, { rejectedCount: 2 }));
    expect(text).toContain('49 recipients: 48 sent (47 offered, 1 active), 1 failed, 0 waiting');
    expect(text).toContain('2 rows of the file rejected');
    expect(text).toContain('campaign failed cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e --csv failed.csv');
  });
});

describe('the failed-recipients CSV', () => {
  const recipient: FailedRecipient = {
    delegationId: 'dlg_1',
    email: 'bounce@client.example',
    name: '=HYPERLINK("http://evil.example")',
    company: 'Contoso, Ltd',
    state: 'failed',
    sendAttempts: 1,
    smtpReply: '550 5.1.1 "No such user"\r\nhere',
    failureReason: null,
    offeredAt: null,
    acceptedAt: null,
    updatedAt: '2025-01-01T00:00:00.000Z',
  };

  it('writes the reply, quotes what needs it and neutralises formulas; a CSV reader gets the values back', () => {
    const text = recipientExportHeader + recipientExportLine(recipient);
    const [row] = parse(text, { columns: true }) as Record<string, string>[];
    expect(row).toEqual({
      email: 'bounce@client.example',
      name: `'=HYPERLINK("http://evil.example")`,
      company: 'Contoso, Ltd',
      state: 'failed',
      attempts: '1',
      smtp_reply: '550 5.1.1 "No such user"\r\nhere',
      failure_reason: '',
      offered_at: '',
      delegation_id: 'dlg_1',
    });
  });
});

describe('checking the file before sending', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it("reports rejected rows by the API's row number and the line they start on, counting blank lines and quoted line breaks", () => {
    const text =
      'email,name\n\na@x.example,A\nnot-an-address\n"Two\nlines",b@x.example\nA@X.example\n  \nc@x.example\n';
    const file = checkRecipientsFile(bytes(text));
    expect(file).toMatchObject({ rows: 5, accepted: 2 });
    expect(file.rejected.map((r) => [r.line, r.row, r.reason])).toEqual([
      [4, 2, 'email is not a valid address'],
      [5, 3, 'email contains control characters'],
      [7, 4, 'duplicate of an earlier recipient in this campaign'],
    ]);
    expect(formatRejectedRow(file.rejected[0] as (typeof file.rejected)[number])).toBe(
      '  row 2 (line 4): not-an-address — email is not a valid address',
    );
  });

  it('finds the start line of every data row, CRLF and BOM included', () => {
    expect(dataRowLines('\ufeffemail\r\na@x\r\n\r\nb@x\r\n"c\r\n@x"\r\nd@x')).toEqual([2, 4, 5, 7]);
  });

  it('refuses what the server refuses as a whole: not UTF-8, a bad header, no rows', () => {
    expect(() => checkRecipientsFile(new Uint8Array([0x65, 0x6d, 0x61, 0x69, 0x6c, 0x0a, 0xe9, 0x0a]))).toThrow(
      /not UTF-8/,
    );
    expect(() => checkRecipientsFile(bytes('mail\nx@y.example\n'))).toThrow(/header/);
    expect(() => checkRecipientsFile(bytes('email\n'))).toThrow(/no recipients/);
  });

  it('checks 100,000 rows in linear time', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `client${i}@c${i % 1000}.example,Name ${i},Company ${i}`);
    rows[500] = 'broken';
    const started = performance.now();
    const file = checkRecipientsFile(bytes(`email,name,company\n${rows.join('\n')}\n`));
    expect(file).toMatchObject({ rows: 100_000, accepted: 99_999 });
    expect(file.rejected[0]?.line).toBe(502);
    // Generous: a quadratic check takes minutes here, a linear one well under a second or two.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('derives the same Idempotency-Key from the same file and offer, another from another', () => {
    const key = sendIdempotencyKey('ofr_1', 'a'.repeat(64));
    expect(key).toMatch(/^[\x21-\x7e]{1,200}$/);
    expect(sendIdempotencyKey('ofr_1', 'a'.repeat(64))).toBe(key);
    expect(sendIdempotencyKey('ofr_2', 'a'.repeat(64))).not.toBe(key);
    expect(sendIdempotencyKey('ofr_1', 'b'.repeat(64))).not.toBe(key);
  });
});

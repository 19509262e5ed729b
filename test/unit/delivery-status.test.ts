import { describe, expect, it } from 'vitest';
import { bounceKind, decisiveRecipient, parseDeliveryStatus, provesFailure } from '../../core/delivery-status.ts';

// The part as Postfix writes it (bounce(8)), with a folded Diagnostic-Code.
const postfix = [
  'Reporting-MTA: dns; relay.partner.example',
  'X-Postfix-Queue-ID: 4F1A22C0B1',
  'X-Postfix-Sender: rfc822; dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e-0a1b2c3d4e5f60718293@bounces.mandate.example',
  'Arrival-Date: Thu,  3 Dec 2026 09:41:07 +0000 (UTC)',
  '',
  'Final-Recipient: rfc822; pat@client.example',
  'Original-Recipient: rfc822;pat@client.example',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; mx.client.example',
  'Diagnostic-Code: smtp; 550 5.1.1 <pat@client.example>: Recipient address',
  '    rejected: User unknown in virtual mailbox table',
  '',
].join('\r\n');

describe('parseDeliveryStatus (RFC 3464 §2)', () => {
  it('reads the reporting server and each recipient, unfolding continued lines', () => {
    expect(parseDeliveryStatus(postfix)).toEqual({
      reportingMta: 'relay.partner.example',
      recipients: [
        {
          finalRecipient: 'pat@client.example',
          originalRecipient: 'pat@client.example',
          action: 'failed',
          status: '5.1.1',
          diagnostic:
            '550 5.1.1 <pat@client.example>: Recipient address rejected: User unknown in virtual mailbox table',
          remoteMta: 'mx.client.example',
        },
      ],
    });
  });

  it('classifies 5.x.x as permanent, 4.x.x as a delay, 2.x.x as nothing to do', () => {
    expect(bounceKind({ status: '5.7.1' })).toBe('permanent');
    expect(bounceKind({ status: '4.4.7' })).toBe('delayed');
    expect(bounceKind({ status: '2.0.0' })).toBe('other');
  });

  it('takes the most serious recipient of a report as the decisive one', () => {
    const report = parseDeliveryStatus(
      'Reporting-MTA: dns; r\n\nFinal-Recipient: rfc822; a@x\nAction: delayed\nStatus: 4.4.1\n\nFinal-Recipient: rfc822; b@x\nAction: failed\nStatus: 5.2.2 (mailbox full)\n',
    );
    expect(report?.recipients.map((r) => r.status)).toEqual(['4.4.1', '5.2.2']);
    expect(report && decisiveRecipient(report, 'b@x')?.recipient.finalRecipient).toBe('b@x');
  });

  it('counts only the blocks naming the address the message was sent to, by Final- or Original-Recipient', () => {
    const report = parseDeliveryStatus(
      'Reporting-MTA: dns; r\n\nFinal-Recipient: rfc822; <Pat@Client.example>\nAction: delivered\nStatus: 2.0.0\n\nFinal-Recipient: rfc822; forward-target@elsewhere.example\nAction: failed\nStatus: 5.1.1\n',
    );
    if (!report) throw new Error('not parsed');
    // The forward's target bounced; the block about pat says delivered.
    expect(decisiveRecipient(report, 'pat@client.example')).toMatchObject({
      aboutRecipient: true,
      recipient: { finalRecipient: 'pat@client.example', status: '2.0.0' },
    });
    // A report naming no block of ours: its most serious block, marked as not about us.
    expect(decisiveRecipient(report, 'someone@client.example')).toMatchObject({
      aboutRecipient: false,
      recipient: { finalRecipient: 'forward-target@elsewhere.example' },
    });
    const byOriginal = parseDeliveryStatus(
      'Reporting-MTA: dns; r\n\nFinal-Recipient: rfc822; mailbox-7@store.example\nOriginal-Recipient: rfc822;pat@client.example\nAction: failed\nStatus: 5.2.1\n',
    );
    expect(byOriginal && decisiveRecipient(byOriginal, 'PAT@client.example')?.aboutRecipient).toBe(true);
  });

  it('keeps report text safe to store and show: no control or bidi characters, bounded lengths', () => {
    const report = parseDeliveryStatus(
      [
        `Reporting-MTA: dns; relay\u0000.example\u202e${'r'.repeat(400)}`,
        '',
        'Final-Recipient: rfc822; pat@client.example',
        'Action: failed\u0085',
        'Status: 5.1.1',
        `Remote-MTA: dns; mx\u0007.client.example`,
        `Diagnostic-Code: smtp; 550 \u001b[31mno\u2066 such\tuser ${'x'.repeat(3000)}`,
        '',
      ].join('\n'),
    );
    const recipient = report?.recipients[0];
    expect(report?.reportingMta).toMatch(/^relay\.exampler+$/);
    expect(report?.reportingMta).toHaveLength(255);
    expect(recipient?.action).toBe('failed');
    expect(recipient?.remoteMta).toBe('mx.client.example');
    expect(recipient?.diagnostic?.startsWith('550 [31mno such user xxx')).toBe(true);
    expect(recipient?.diagnostic).toHaveLength(1000);
  });

  it('takes only Action failed with a 5.x.x status as proof of a failure', () => {
    expect(provesFailure({ action: 'failed', status: '5.1.1' })).toBe(true);
    for (const action of ['delivered', 'relayed', 'expanded', 'delayed', null]) {
      expect(provesFailure({ action, status: '5.1.1' })).toBe(false);
    }
    expect(provesFailure({ action: 'failed', status: '4.4.1' })).toBe(false);
  });

  it.each([
    ['an empty part', ''],
    ['no per-recipient block', 'Reporting-MTA: dns; r\n'],
    ['a recipient without Status', 'Reporting-MTA: dns; r\n\nFinal-Recipient: rfc822; a@x\nAction: failed\n'],
    ['a malformed Status', 'Reporting-MTA: dns; r\n\nFinal-Recipient: rfc822; a@x\nStatus: 550\n'],
    ['a status class that does not exist', 'Reporting-MTA: dns; r\n\nStatus: 3.1.1\n'],
    ['prose instead of fields', 'Hello,\n\nyour message could not be delivered.\n'],
    ['a continuation line first', 'Reporting-MTA: dns; r\n\n  Status: 5.1.1\n'],
    ['an oversized part', `Reporting-MTA: dns; r\n\nStatus: 5.1.1\nX: ${'a'.repeat(70_000)}\n`],
  ])('refuses %s', (_name, text) => {
    expect(parseDeliveryStatus(text)).toBeNull();
  });
});

import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { renderOfferEmail } from '../../core/emails/offer-email.ts';
import { messageTemplate } from '../../lib/mail-template.ts';

const offer = (partnerName: string, recipientName: string | null) =>
  renderOfferEmail({
    partnerName,
    roles: ['user_admin', 'helpdesk_admin'],
    durationDays: 90,
    autoExtend: true,
    link: `http://localhost:3000/offers/${'t'.repeat(90)}`,
    recipientName,
    recipientCompany: 'Client "Q" <x> & Co',
    offerExpiresAt: new Date('2027-01-01T00:00:00Z'),
  });

const cases = [
  { from: 'Mandate <no-reply@x.example>', to: 'pat@client.example', ...offer('Acme IT', 'Pat') },
  { from: 'Mändäte Ü <no-reply@x.example>', to: 'pat@client.example', ...offer('Acme IT Ünïcødé 😀', 'Pât  ') },
  { from: 'no-reply@x.example', to: 'ünï@bücher.example', ...offer('Ωmega', null) },
  {
    from: 'Mandate <no-reply@x.example>',
    to: 'a@b.example',
    subject: `A long subject ${'word '.repeat(30)}`,
    text: `line with trailing spaces   \nCRLF\r\n${'x'.repeat(300)}\n.\n..leading dots\nFrom the start`,
    html: `<p>${'é'.repeat(200)}</p>\n<p>=3D and = signs</p>`,
  },
];

describe('message templates', () => {
  it.each(cases)('read back as nodemailer composes them: $subject', async (email) => {
    const ours = messageTemplate(email.from, email.subject).render({ ...email, messageId: '<m1.offer@x.example>' });
    const theirs = await new MailComposer({ ...email, messageId: '<m1.offer@x.example>' }).compile().build();
    const [a, b] = [await simpleParser(ours), await simpleParser(theirs)];
    expect(a.subject).toBe(b.subject);
    expect(a.from?.text).toBe(b.from?.text);
    expect(JSON.stringify(a.to)).toBe(JSON.stringify(b.to));
    expect(a.messageId).toBe(b.messageId);
    expect(a.text).toBe(b.text);
    expect(a.html).toBe(b.html);
    // Every line within SMTP's limit (998) and the 78 that encoders keep to.
    expect(
      ours
        .toString('latin1')
        .split('\r\n')
        .every((line) => line.length <= 78),
    ).toBe(true);
    expect(ours.toString('latin1')).not.toMatch(/[^\r]\n|\r(?!\n)/);
  });

  it('builds the static parts once: two recipients differ only in their own fields', () => {
    const email = cases[0] as (typeof cases)[0];
    const template = messageTemplate(email.from, email.subject);
    const date = new Date('2026-12-03T12:00:00Z');
    const one = template.render({ ...email, to: 'one@c.example', messageId: '<1@x>' }, date).toString();
    const two = template.render({ ...email, to: 'two@c.example', messageId: '<2@x>' }, date).toString();
    expect(one.replace('one@c.example', 'two@c.example').replace('<1@x>', '<2@x>')).toBe(two);
  });
});

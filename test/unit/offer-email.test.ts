import { describe, expect, it } from 'vitest';
import { renderOfferEmail } from '../../core/emails/offer-email.ts';

const base = {
  partnerName: 'Acme IT',
  roles: ['password_admin'] as const,
  durationDays: 730,
  autoExtend: true,
  link: 'https://mandate.example/offers/abc123',
  recipientName: 'Alex',
  recipientCompany: 'Contoso',
  offerExpiresAt: new Date('2027-02-26T00:00:00Z'),
};

describe('renderOfferEmail', () => {
  it('states who asks, what, for how long, and carries the link in both parts', () => {
    const email = renderOfferEmail(base);
    expect(email.subject).toBe('Acme IT offers to administer your organization');
    for (const part of [email.text, email.html]) {
      expect(part).toContain('https://mandate.example/offers/abc123');
      expect(part).toContain('Limited administration: can reset passwords of non-admin users');
      expect(part).toContain('2 years');
      expect(part).toContain('Device management is never included');
      expect(part).toContain('2027-02-26');
    }
    expect(email.text).toContain('Hello Alex,');
    expect(email.text).toContain('renews automatically by 180 days');
  });

  it('describes full access and a duration in days', () => {
    const email = renderOfferEmail({ ...base, roles: ['global_admin'], durationDays: 30, autoExtend: false });
    expect(email.text).toContain('Full administration: the same rights as your global administrators');
    expect(email.text).toContain('30 days');
    expect(email.text).not.toContain('renews automatically');
  });

  it('escapes partner- and recipient-supplied text in the HTML part', () => {
    const email = renderOfferEmail({
      ...base,
      partnerName: '<script>alert(1)</script>',
      recipientName: '"><img src=x onerror=alert(1)>',
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

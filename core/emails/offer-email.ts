import { describeRoles } from '../access.ts';
import type { Role } from '../roles.ts';
import { escapeHtml } from './escape-html.ts';

export interface OfferEmailInput {
  partnerName: string;
  roles: readonly Role[];
  durationDays: number;
  autoExtend: boolean;
  /** The recipient's own link: `<PUBLIC_URL>/offers/<token>`. */
  link: string;
  recipientName: string | null;
  recipientCompany: string | null;
  /** Last day the link can be accepted. */
  offerExpiresAt: Date;
  /** A reminder of the offer sent earlier (the same link), not the first email. */
  reminder?: boolean | undefined;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

function durationWords(days: number): string {
  if (days % 365 === 0) return days === 365 ? '1 year' : `${days / 365} years`;
  return days === 1 ? '1 day' : `${days} days`;
}

/**
 * The email that carries a delegated administration offer. Every partner- or
 * recipient-supplied string is escaped in the HTML part; the text part is plain.
 */
export function renderOfferEmail(input: OfferEmailInput): RenderedEmail {
  const greeting = input.recipientName ? `Hello ${input.recipientName},` : 'Hello,';
  const forCompany = input.recipientCompany ? ` for ${input.recipientCompany}` : '';
  const duration = durationWords(input.durationDays);
  const extend = input.autoExtend
    ? 'It renews automatically by 180 days at the end unless you or the partner end it.'
    : 'It ends automatically after that unless renewed.';
  const expires = input.offerExpiresAt.toISOString().slice(0, 10);
  const facts = [
    `What they ask for: ${describeRoles(input.roles)}.`,
    `For how long: ${duration} from the day you accept. ${extend}`,
    'Device management is never included.',
    'You can end the delegation at any time.',
  ];

  const subject = `${input.reminder ? 'Reminder: ' : ''}${input.partnerName} offers to administer your organization`;
  const opening = input.reminder
    ? `A reminder: ${input.partnerName} offered to act as delegated administrator${forCompany}, and is waiting for your answer.`
    : `${input.partnerName} offers to act as delegated administrator${forCompany}.`;
  const text = [
    greeting,
    '',
    opening,
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    'To review the offer and accept or decline it, open:',
    input.link,
    '',
    `The link works until ${expires}. If you did not expect this email, you can ignore it.`,
  ].join('\n');

  const e = escapeHtml;
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.5">
<p>${e(greeting)}</p>
<p>${
    input.reminder
      ? `A reminder: <strong>${e(input.partnerName)}</strong> offered to act as delegated administrator${e(forCompany)}, and is waiting for your answer.`
      : `<strong>${e(input.partnerName)}</strong> offers to act as delegated administrator${e(forCompany)}.`
  }</p>
<ul>${facts.map((f) => `<li>${e(f)}</li>`).join('')}</ul>
<p><a href="${e(input.link)}">Review the offer</a></p>
<p>Or paste this link into your browser: ${e(input.link)}</p>
<p style="color:#666">The link works until ${e(expires)}. If you did not expect this email, you can ignore it.</p>
</body></html>`;

  return { subject, text, html };
}

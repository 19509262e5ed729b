import { escapeHtml } from './escape-html.ts';
import type { RenderedEmail } from './offer-email.ts';

/** The words of the link every email to a client admin about a delegation carries. */
export const END_LINK_LABEL = 'End this delegation';

/**
 * A plain notification: a subject, paragraphs, and an optional link. The text part is
 * the paragraphs as written; the HTML part escapes every one of them. With `endUrl` (the
 * signed link of services/mail/end-links.ts, only ever in emails to the client's side) it
 * closes with the "End this delegation" link.
 */
export function renderNotice(
  subject: string,
  paragraphs: string[],
  link?: { label: string; url: string },
  options: { endUrl?: string | undefined } = {},
): RenderedEmail {
  const links = [...(link ? [link] : []), ...(options.endUrl ? [{ label: END_LINK_LABEL, url: options.endUrl }] : [])];
  const closing = options.endUrl
    ? ['You can end this delegation at any time with the link below, without signing in; it asks you to confirm.']
    : [];
  const all = [...paragraphs, ...closing];
  const text = [...all, ...links.map((l) => `${l.label}: ${l.url}`)].join('\n\n');
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.5">
${all.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${links.map((l) => `<p><a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a></p>`).join('\n')}
</body></html>`;
  return { subject, text, html };
}

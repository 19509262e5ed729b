import { escapeHtml } from './escape-html.ts';
import type { RenderedEmail } from './offer-email.ts';

/**
 * A plain notification: a subject, paragraphs, and an optional link. The text part is
 * the paragraphs as written; the HTML part escapes every one of them.
 */
export function renderNotice(
  subject: string,
  paragraphs: string[],
  link?: { label: string; url: string },
): RenderedEmail {
  const text = [...paragraphs, ...(link ? [`${link.label}: ${link.url}`] : [])].join('\n\n');
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.5">
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${link ? `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>` : ''}
</body></html>`;
  return { subject, text, html };
}

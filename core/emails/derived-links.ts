import { escapeHtml } from './escape-html.ts';

/**
 * A link whose key is derived from LINK_SECRET when the email is sent, never stored
 * (docs/adr/0002): the outbox keeps what is needed to derive it, the body a placeholder.
 */
export type DerivedLink =
  /** A delegation's "End this delegation" link: `<PUBLIC_URL>/end/<delegationId>/<key>`. */
  | { kind: 'end'; delegationId: string }
  /** One client admin's personal link to answer an amendment: `<PUBLIC_URL>/amendments/<token>`. */
  | { kind: 'amendment'; amendmentId: string; userId: string }
  /** An invitation to a partner's staff: `<PUBLIC_URL>/invitations/<token>`. */
  | { kind: 'staff-invitation'; invitationId: string }
  /** A campaign recipient's own offer link, the one of its offer email: `<PUBLIC_URL>/offers/<token>`. */
  | { kind: 'offer'; delegationId: string };

/** Placeholder → the link it stands for, as `emails.links` keeps it. */
export type DerivedLinks = Record<string, DerivedLink>;

/**
 * The body of an email with each placeholder of `links` replaced by its URL (`urlOf`), the
 * HTML part escaped. Only the placeholders listed are replaced, each by a plain string
 * replacement (no pattern): text in the body that merely looks like a placeholder stays as
 * it is. Placeholders use only characters escapeHtml leaves alone, so the same string
 * stands in both parts.
 */
export function fillDerivedLinks<T extends { text: string; html: string }>(
  body: T,
  links: DerivedLinks,
  urlOf: (link: DerivedLink) => string,
): T {
  let { text, html } = body;
  for (const [placeholder, link] of Object.entries(links)) {
    const url = urlOf(link);
    // Functions, not strings: a replacement string would read `$&` and the like in it.
    text = text.replaceAll(placeholder, () => url);
    html = html.replaceAll(placeholder, () => escapeHtml(url));
  }
  return { ...body, text, html };
}

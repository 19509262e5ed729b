import type { DerivedLink, DerivedLinks } from '../../core/emails/derived-links.ts';
import type { Config } from '../../lib/config.ts';
import { amendmentLinkToken, delegationLinkToken, randomToken, staffInvitationToken } from '../../lib/secrets.ts';
import { endDelegationUrl } from './end-links.ts';

/**
 * A placeholder to render in place of `link`'s URL, and the `links` entry of the email that
 * says what it stands for. The outbox stores both; `sendEmail` puts the derived URL in
 * just before sending, so the database never holds a link's key (docs/adr/0002, 0004).
 *
 * Why the placeholder cannot be forged from a partner or organization name in the body:
 * - it is chosen at random (128 bits) when the email is rendered, after every name in it
 *   was already written, so no name can contain it but by guessing;
 * - at send time only the placeholders in the row's own `links` are replaced, by plain
 *   string replacement — and only this code writes `links` — so a name that looks like a
 *   placeholder (`{{link:end:…}}`) stays as typed, and even a guessed one could only receive
 *   a link meant for that same recipient;
 * - it uses `{`, `}`, `:`, letters, digits, `-` and `_`, which escapeHtml leaves alone, so
 *   the same string stands in the text part and in the HTML part (`href="…"`).
 */
export function linkPlaceholder(link: DerivedLink): { placeholder: string; links: DerivedLinks } {
  const placeholder = `{{link:${link.kind}:${randomToken(16)}}}`;
  return { placeholder, links: { [placeholder]: link } };
}

/** The "End this delegation" link of a delegation, as a placeholder (see {@link linkPlaceholder}). */
export function endLinkPlaceholder(delegationId: string) {
  return linkPlaceholder({ kind: 'end', delegationId });
}

/** The URL a derived link stands for, under this instance's LINK_SECRET and PUBLIC_URL. */
export function derivedLinkUrl(config: Pick<Config, 'linkSecret' | 'publicUrl'>, link: DerivedLink): string {
  switch (link.kind) {
    case 'end':
      return endDelegationUrl(config, link.delegationId);
    case 'amendment':
      return `${config.publicUrl}/amendments/${amendmentLinkToken(config.linkSecret, link.amendmentId, link.userId)}`;
    case 'staff-invitation':
      return `${config.publicUrl}/invitations/${staffInvitationToken(config.linkSecret, link.invitationId)}`;
    case 'offer':
      return `${config.publicUrl}/offers/${delegationLinkToken(config.linkSecret, link.delegationId)}`;
    default:
      // The column is jsonb: a kind this version does not know must not go out as "undefined".
      throw new Error(`unknown derived link kind ${JSON.stringify((link as { kind?: unknown }).kind)}`);
  }
}

// The "End this delegation" link (issue 13, item 5) lives here, in services/mail/end-links.ts:
// `endDelegationUrl(config, delegationId)`. Every email to a client admin about a delegation
// carries it. Outbox emails hold only a placeholder for it (./derived-links.ts) and get the
// URL when sent; an email sent at once, never stored (a temporary password), calls this.
import type { Config } from '../../lib/config.ts';
import { endLinkToken } from '../../lib/secrets.ts';

/**
 * The signed link a client admin follows to end a delegation: `<PUBLIC_URL>/end/<id>/<key>`.
 * It leads to a confirmation page (GET never ends anything) that works without sign-in, so a
 * partner that keeps resetting the admin's password cannot keep the client from leaving.
 */
export function endDelegationUrl(config: Pick<Config, 'linkSecret' | 'publicUrl'>, delegationId: string): string {
  return `${config.publicUrl}/end/${delegationId}/${endLinkToken(config.linkSecret, delegationId)}`;
}

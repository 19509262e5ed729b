/**
 * Single sign-on for partner staff through the partner's identity provider (OpenID
 * Connect): the rules that need no I/O. See docs/adr/0012-single-sign-on.md.
 */

/** How long a browser has between leaving for the identity provider and coming back. */
export const SSO_SIGN_IN_SECONDS = 10 * 60;

/** The path the identity provider sends the browser back to (register it at the provider). */
export const SSO_CALLBACK_PATH = '/sign-in/sso/callback';

/** The redirect URI to register at the provider, for an instance reached at `publicUrl`. */
export const ssoRedirectUri = (publicUrl: string) => `${publicUrl}${SSO_CALLBACK_PATH}`;

/** Hosts a plain-http issuer may have: this machine only (a provider run beside Mandate, tests). */
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An issuer URL as a partner may configure it: https, or — outside production — http on
 * this machine only (the provider's answers, the ID token's keys among them, must not cross
 * a network in the clear; and in production an owner must not make the server probe its own
 * loopback services). No credentials, query or fragment — an issuer identifier has none.
 */
export function checkIssuerUrl(
  raw: string,
  options: { allowLoopbackHttp: boolean } = { allowLoopbackHttp: true },
): { url: URL; insecureLoopback: boolean } | { reason: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { reason: 'is not a URL' };
  }
  if (url.username || url.password || url.search || url.hash) {
    return { reason: 'must be the issuer identifier alone, without credentials, query or fragment' };
  }
  if (url.protocol === 'https:') return { url, insecureLoopback: false };
  if (url.protocol === 'http:' && loopbackHosts.has(url.hostname) && options.allowLoopbackHttp)
    return { url, insecureLoopback: true };
  if (url.protocol === 'http:' && options.allowLoopbackHttp)
    return { reason: 'must start with https:// (plain http only for localhost)' };
  return { reason: 'must start with https://' };
}

/** Whether requests to this (saved, so already checked) issuer may use plain http. */
export function isLoopbackHttp(issuer: string): boolean {
  const checked = checkIssuerUrl(issuer);
  return 'url' in checked && checked.insecureLoopback;
}

/** The domain of an email address, lower-case; null when it has none. */
export function emailDomainOf(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1) return null;
  return email.slice(at + 1).toLowerCase();
}

/** Why a single sign-on was refused, one row each: what the audit detail says, and what the person reads. */
export const ssoRefusalTable = {
  unknown_sign_in: {
    status: 400,
    message: 'This sign-in has expired or was not started in this browser. Start again.',
  },
  expired: { status: 400, message: 'This sign-in took too long and has expired. Start again.' },
  replayed: { status: 400, message: 'This sign-in has already been used. Start again.' },
  provider_disabled: {
    status: 401,
    message: 'Single sign-on is turned off for your organization. Sign in with your password, or ask an owner.',
  },
  state_mismatch: {
    status: 400,
    message: 'The answer from your identity provider does not belong to this sign-in. Start again.',
  },
  nonce_mismatch: {
    status: 401,
    message: 'The identity token does not belong to this sign-in. Start again.',
  },
  issuer_mismatch: {
    status: 401,
    message: 'The answer did not come from the identity provider your organization configured.',
  },
  provider_error: {
    status: 401,
    message: 'Your identity provider did not sign you in.',
  },
  invalid_response: {
    status: 401,
    message: 'The answer from your identity provider could not be verified.',
  },
  no_email: {
    status: 401,
    message: 'Your identity provider did not give an email address for you.',
  },
  email_unverified: {
    status: 401,
    message:
      'Your identity provider has not verified your email address, so it cannot be linked to your account. Verify it there, or sign in with your password.',
  },
  domain_mismatch: {
    status: 401,
    message: 'Your email address is not at the domain your organization set up for single sign-on.',
  },
  no_account: {
    status: 401,
    message: 'There is no staff account for this address at {partner}; ask an owner to add you.',
  },
} as const satisfies Record<string, { status: 400 | 401; message: string }>;

export type SsoRefusal = keyof typeof ssoRefusalTable;

/** The words for a refusal, with the partner's name where it has a place for it. */
export function ssoRefusalMessage(reason: SsoRefusal, partnerName?: string): string {
  return ssoRefusalTable[reason].message.replace('{partner}', partnerName ?? 'your organization');
}

/**
 * What a failed code exchange was, from the client library's error: its message names the
 * parameter or claim that did not match (the library's own checks, not ours to repeat).
 */
export function classifyCallbackError(error: unknown): SsoRefusal {
  if (!(error instanceof Error)) return 'invalid_response';
  if (error.name === 'AuthorizationResponseError') return 'provider_error';
  const cause = error.cause instanceof Error ? error.cause.message : '';
  const text = `${error.message} ${cause}`;
  if (/"state"/.test(text)) return 'state_mismatch';
  if (/"nonce"/.test(text)) return 'nonce_mismatch';
  if (/"iss"/.test(text)) return 'issuer_mismatch';
  return 'invalid_response';
}

/**
 * Where a partner publishes the proof that it holds its staff's email domain: a TXT record
 * `mandate-sso=<token>` at `_mandate-sso.<domain>` (the token derived from LINK_SECRET, the
 * provider and the domain: lib/secrets.ts ssoDomainToken). Until it is found, single
 * sign-on does not start for the domain — naming a domain claims nothing.
 */
export const ssoDomainRecordName = (domain: string) => `_mandate-sso.${domain.toLowerCase()}`;
export const ssoDomainRecordValue = (token: string) => `mandate-sso=${token}`;

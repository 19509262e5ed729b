import * as client from 'openid-client';

/**
 * OpenID Connect sign-in as a relying party (authorization code with PKCE), on
 * openid-client: discovery, the authorization URL, and the callback's checks (state,
 * `iss`, PKCE, the ID token's signature, issuer, audience, nonce and times) are the
 * library's; this file only feeds it what Mandate keeps and reads back the claims.
 */

/** How long one request to an identity provider may take, in seconds. */
const TIMEOUT_SECONDS = 10;

export interface OidcClientSettings {
  /** The issuer's discovery document, as {@link discoverIssuer} returned it. */
  serverMetadata: Record<string, unknown>;
  clientId: string;
  /** Null where the client does not authenticate (the authorization request). */
  clientSecret: string | null;
  /** Allow plain http (only ever for an issuer on loopback: core/single-sign-on.ts). */
  allowHttp: boolean;
}

/**
 * Fetches the issuer's discovery document, checking that it names this issuer. Throws
 * (the library's error) when the issuer cannot be reached or its document is not right.
 */
export async function discoverIssuer(
  issuer: URL,
  clientId: string,
  allowHttp: boolean,
): Promise<Record<string, unknown>> {
  const config = await client.discovery(issuer, clientId, undefined, client.None(), {
    execute: allowHttp ? [client.allowInsecureRequests] : [],
    timeout: TIMEOUT_SECONDS,
  });
  // The document only (the object also carries helper functions).
  return JSON.parse(JSON.stringify(config.serverMetadata())) as Record<string, unknown>;
}

function configurationOf(settings: OidcClientSettings): client.Configuration {
  const metadata = settings.serverMetadata as unknown as client.ServerMetadata;
  // client_secret_basic is what a provider supports when it says nothing (RFC 8414).
  const methods = (metadata.token_endpoint_auth_methods_supported as string[] | undefined) ?? ['client_secret_basic'];
  const auth =
    settings.clientSecret === null
      ? client.None()
      : !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
        ? client.ClientSecretPost(settings.clientSecret)
        : client.ClientSecretBasic(settings.clientSecret);
  const config = new client.Configuration(metadata, settings.clientId, undefined, auth);
  if (settings.allowHttp) client.allowInsecureRequests(config);
  config.timeout = TIMEOUT_SECONDS;
  return config;
}

/** What a sign-in must remember until the callback, and where to send the browser. */
export interface StartedAuthorization {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The authorization request: code flow, PKCE (S256), state and nonce, `openid email`. */
export async function startAuthorization(
  settings: OidcClientSettings,
  input: { redirectUri: string; loginHint?: string | undefined },
): Promise<StartedAuthorization> {
  const config = configurationOf(settings);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: input.redirectUri,
    response_type: 'code',
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(input.loginHint ? { login_hint: input.loginHint } : {}),
  });
  // The browser is sent there: only ever a web address, https unless the issuer is on loopback.
  if (!(url.protocol === 'https:' || (settings.allowHttp && url.protocol === 'http:'))) {
    throw new Error(`the provider's authorization endpoint is not an https URL: ${url.protocol}`);
  }
  return { url, state, nonce, codeVerifier };
}

/** Who the provider says signed in. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  email: string | undefined;
  /** True only when the provider says so with a JSON `true` (not "true", not absent). */
  emailVerified: boolean;
}

/**
 * The callback: checks the response against what the start kept and exchanges the code;
 * the ID token must come back and pass every check. The address is read from the ID token,
 * or from userinfo when the provider keeps it there (for the same subject). Throws the
 * library's error on any mismatch (core/single-sign-on.ts classifies it).
 */
export async function finishAuthorization(
  settings: OidcClientSettings,
  callbackUrl: URL,
  expected: { state: string; nonce: string; codeVerifier: string },
): Promise<VerifiedIdentity> {
  const config = configurationOf(settings);
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: expected.codeVerifier,
    expectedState: expected.state,
    expectedNonce: expected.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  let source: Record<string, unknown> = claims;
  if (typeof claims.email !== 'string') {
    source = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  }
  return {
    issuer: claims.iss,
    subject: claims.sub,
    email: typeof source.email === 'string' ? source.email : undefined,
    emailVerified: source.email_verified === true,
  };
}

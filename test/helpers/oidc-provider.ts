import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
// The package ships no types; test/types/oidc-provider.d.ts declares the little used here.
import Provider from 'oidc-provider';

/** What the identity provider says of one person (the `email` scope's claims). */
export interface ProviderAccount {
  email?: string;
  email_verified?: boolean | string;
}

export interface TestIdentityProvider {
  /** `http://localhost:<port>` */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The people who can sign in, by what they type as "login" on the provider's page (their subject). */
  accounts: Map<string, ProviderAccount>;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (oidc-provider), in this process on loopback, with one
 * confidential client whose only redirect URI is `redirectUri`, PKCE required, and its
 * built-in development login and consent pages: any password signs in the login typed,
 * whose claims come from `accounts`. By default the ID token carries `email` and
 * `email_verified`; with `emailInIdToken: false` only userinfo does (as the spec's
 * default, and some providers, have it).
 */
export async function startIdentityProvider(options: {
  redirectUri: string;
  emailInIdToken?: boolean;
  /** The client registered (default: a new one); another provider's, to impersonate it. */
  client?: { clientId: string; clientSecret: string };
}): Promise<TestIdentityProvider> {
  const accounts = new Map<string, ProviderAccount>();
  const clientId = options.client?.clientId ?? `mandate-${randomBytes(4).toString('hex')}`;
  const clientSecret = options.client?.clientSecret ?? randomBytes(24).toString('base64url');
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as { port: number };
  const issuer = `http://localhost:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    scopes: ['openid', 'email'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: options.emailInIdToken === false,
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    // Set, so the provider does not print a notice for each default it falls back on.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, ...accounts.get(id) }),
    }),
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The form of a provider page: where it posts and its hidden fields. */
function formOf(html: string, base: string): { action: URL; fields: Record<string, string> } | null {
  const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form) return null;
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields[input[1] as string] = input[2] as string;
  }
  return { action: new URL((form[1] ?? '').replaceAll('&amp;', '&'), base), fields };
}

/**
 * A person at the provider's own pages, driven with plain HTTP and a cookie jar: opens the
 * authorization URL, types `login` (any password) on the login page, continues on the
 * consent page, and returns the URL the provider redirects the browser to (the callback,
 * or any address outside the provider). With `cancel`, chooses "Cancel" on the login page.
 */
export async function signInAtProvider(
  authorizationUrl: string,
  login: string,
  options: { cancel?: boolean } = {},
): Promise<URL> {
  const jar = new Map<string, string>();
  const origin = new URL(authorizationUrl).origin;
  let url = new URL(authorizationUrl);
  let body: URLSearchParams | undefined;
  for (let hops = 0; hops < 20; hops++) {
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body: body.toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) jar.set(name.trim(), value.join('='));
    }
    body = undefined;
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url);
      if (url.origin !== origin) return url;
      continue;
    }
    const html = await response.text();
    const cancel = options.cancel ? /<a href="([^"]+)">\[ Cancel \]<\/a>/.exec(html)?.[1] : undefined;
    if (cancel) {
      url = new URL(cancel.replaceAll('&amp;', '&'), url);
      continue;
    }
    const form = formOf(html, url.href);
    if (!form) throw new Error(`provider page without a form (${response.status}): ${html.slice(0, 500)}`);
    body = new URLSearchParams(form.fields);
    if (form.fields.prompt === 'login') {
      body.set('login', login);
      body.set('password', 'any password');
    }
    url = form.action;
  }
  throw new Error('too many steps at the provider');
}

import { delegationLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { applyTransition, systemActor } from '../../services/delegation-transitions.ts';
import type { TestStack } from './stack.ts';

/**
 * A minimal browser for the HTML pages, in-process: keeps cookies, and fills in the
 * CSRF field from the CSRF cookie like the page's hidden input would.
 */
export class PageClient {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly stack: TestStack,
    readonly ip = '127.0.0.1',
  ) {}

  #remember(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      const v = value.join('=');
      if (v === '' || /max-age=0/i.test(line)) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), v);
    }
  }

  #headers(extra: Record<string, string> = {}) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return { ...(cookie ? { cookie } : {}), ...extra };
  }

  async get(path: string): Promise<{ status: number; html: string; response: Response }> {
    const response = await this.stack.request(path, { headers: this.#headers(), ip: this.ip });
    this.#remember(response);
    return { status: response.status, html: await response.text(), response };
  }

  /** Posts a form; `csrf` defaults to the cookie's value (pass null to leave it out). */
  async post(path: string, fields: Record<string, string> = {}, csrf: string | null | undefined = undefined) {
    const token = csrf === undefined ? (this.cookies.get('mandate_csrf') ?? '') : csrf;
    const body = new URLSearchParams({ ...fields, ...(token === null ? {} : { csrf: token }) });
    const response = await this.stack.request(path, {
      method: 'POST',
      body: body.toString(),
      headers: this.#headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      ip: this.ip,
    });
    this.#remember(response);
    return {
      status: response.status,
      html: await response.text(),
      location: response.headers.get('location'),
      response,
    };
  }
}

/**
 * Makes a campaign delegation's personal link resolvable and moves it to `offered`, as
 * the send-offer worker does after sending. Returns the link's token.
 */
export async function offerPersonalLink(stack: TestStack, delegationId: string): Promise<string> {
  const token = delegationLinkToken(stack.config.linkSecret, delegationId);
  await stack.deps.sql`update delegations set token_hash = ${sha256Hex(token)} where id = ${delegationId}`;
  await applyTransition(stack.deps.db, { delegationId, from: 'invited', event: 'send_succeeded', actor: systemActor });
  return token;
}

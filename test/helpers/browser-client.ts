import { delegationLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { applyTransition, systemActor } from '../../services/delegations/transitions.ts';
import type { TestStack } from './stack.ts';

/**
 * A minimal browser for the HTML pages, in-process: keeps cookies, and fills in the
 * CSRF field from the CSRF cookie like the page's hidden input would. `userAgent`, when
 * given, goes with every request as a browser's would.
 */
export class PageClient {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly stack: TestStack,
    readonly ip = '127.0.0.1',
    readonly userAgent?: string,
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
    return { ...(cookie ? { cookie } : {}), ...(this.userAgent ? { 'user-agent': this.userAgent } : {}), ...extra };
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

/** A file as a page's file input sends it. */
export interface FormFile {
  name: string;
  content: string | Uint8Array;
  type?: string;
}

/**
 * Posts a form with files (multipart/form-data) as `browser`; `csrf` defaults to the
 * cookie's value, as in {@link PageClient.post}.
 */
export async function postFiles(
  browser: PageClient,
  path: string,
  fields: Record<string, string>,
  files: Record<string, FormFile>,
  csrf?: string | null,
) {
  const body = new FormData();
  const token = csrf === undefined ? (browser.cookies.get('mandate_csrf') ?? '') : csrf;
  for (const [name, value] of Object.entries({ ...fields, ...(token === null ? {} : { csrf: token }) })) {
    body.append(name, value);
  }
  for (const [name, file] of Object.entries(files)) {
    body.append(name, new File([file.content], file.name, { type: file.type ?? 'text/csv' }));
  }
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const response = await browser.stack.request(path, {
    method: 'POST',
    body,
    headers: cookie ? { cookie } : {},
    ip: browser.ip,
  });
  return {
    status: response.status,
    html: await response.text(),
    location: response.headers.get('location'),
    response,
  };
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

/**
 * Creates a client organization from an offer page the way a person would: at once when
 * the address is the personal link's recipient, else by following the confirmation link
 * emailed to the address (read from the outbox). Leaves `browser` signed in.
 */
export async function createOrgFromOffer(
  browser: PageClient,
  token: string,
  fields: { orgName: string; adminName?: string; email: string; password?: string },
): Promise<void> {
  await browser.get(`/offers/${token}`);
  const created = await browser.post(`/offers/${token}/create-org`, {
    orgName: fields.orgName,
    adminName: fields.adminName ?? 'Admin',
    email: fields.email,
    password: fields.password ?? 'correct horse battery staple',
  });
  if (created.status === 303) return;
  if (created.status !== 200 || !created.html.includes('Check your email')) {
    throw new Error(`create-org answered ${created.status}: ${created.html.slice(0, 500)}`);
  }
  const [email] = await browser.stack.deps.sql`
    select text_body from emails where kind = 'confirm-signup' and lower(to_email) = ${fields.email.toLowerCase()}
    order by created_at desc limit 1`;
  const link = /\/signup\/([A-Za-z0-9_-]{43})/.exec(String(email?.text_body))?.[1];
  if (!link) throw new Error('no confirmation email');
  await browser.get(`/signup/${link}`);
  const confirmed = await browser.post(`/signup/${link}`);
  if (confirmed.status !== 303)
    throw new Error(`confirmation answered ${confirmed.status}: ${confirmed.html.slice(0, 300)}`);
}

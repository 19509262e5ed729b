import type { LookupAddress } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { isPublicAddress } from './public-address.ts';
import { semaphore } from './semaphore.ts';

/**
 * Host names of webhooks are resolved by the system's resolver, which runs on libuv's small
 * shared thread pool (4 threads) and cannot be cancelled: a name whose nameserver never
 * answers holds a thread until the system gives up. At most this many webhook lookups run
 * at once, so a partner's slow name can never take the threads the rest of the process
 * needs (database and Redis reconnections, SMTP, files, crypto).
 */
const WEBHOOK_LOOKUPS_AT_ONCE = 2;
const lookupTurns = semaphore(WEBHOOK_LOOKUPS_AT_ONCE);
/** How long a registration waits for a name to resolve (its lookup keeps its turn until it ends). */
const REGISTRATION_LOOKUP_MS = 5_000;

function resolveAll(host: string): Promise<LookupAddress[]> {
  return lookupTurns(() => lookupAll(host, { all: true }));
}

/**
 * Webhook delivery: a request to an address a customer typed, from inside Mandate's network.
 * The receiver's address is checked where the connection is made, and the connection goes
 * to the address that was checked, so a name that resolves to a public address when the
 * URL is registered and to 169.254.169.254 a minute later (DNS rebinding) still reaches
 * nothing inside.
 */

export interface WebhookHttpOptions {
  /** WEBHOOK_ALLOW_PRIVATE: private/loopback/link-local receivers allowed, and `http:` to them. */
  allowPrivate: boolean;
  /** Whole exchange deadline (connect, headers, body read): 10 000 in production. */
  timeoutMs: number;
  /** Response bytes kept (2048); the rest is not read — the socket is destroyed. */
  maxResponseBytes: number;
}

export type WebhookHttpResult =
  | { kind: 'answered'; status: number; excerpt: string; location?: string } // any HTTP status; location when 3xx (never followed)
  | { kind: 'refused'; reason: string } // the URL or the address it resolves to is not allowed: nothing was sent
  | { kind: 'unreachable'; reason: string }; // DNS failure, connection refused/reset, TLS error, timeout

const MAX_URL_LENGTH = 2048;
const USER_AGENT = 'Mandate-Webhooks/1';

/** Thrown from inside the connection's lookup, so that a refusal is told apart from a network failure. */
class RefusedAddressError extends Error {}

/** The URL's own problems (nothing resolved yet), or the parsed URL. */
function urlShapeProblem(url: string, allowPrivate: boolean): { problem: string } | { url: URL } {
  if (url.length > MAX_URL_LENGTH) return { problem: `URLs longer than ${MAX_URL_LENGTH} characters are not accepted` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'This is not a URL' };
  }
  // http only where the receivers may be on this network (tests, on-premises): elsewhere
  // the payload and its signature would cross the internet in the clear.
  const schemes = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(parsed.protocol)) {
    return { problem: allowPrivate ? 'Only http and https URLs are accepted' : 'Only https URLs are accepted' };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { problem: 'URLs with a user name or password are not accepted' };
  }
  // The raw text: `https://x/#` parses to an empty hash, but a fragment was written.
  if (url.includes('#')) return { problem: 'URLs with a fragment (#…) are not accepted' };
  return { url: parsed };
}

/** The URL's host without the brackets of an IPv6 literal. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Why a host that resolved to these addresses may not be reached, or null. */
function addressProblem(host: string, addresses: string[], allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  const inside = addresses.find((a) => !isPublicAddress(a));
  if (inside === undefined) return null;
  // Not which address: an owner must not learn what an internal name resolves to.
  return inside === host
    ? `${host} is not on the public internet`
    : `${host} resolves to an address that is not on the public internet`;
}

/** Why a webhook URL may not be registered (null when it may): scheme, credentials, fragment, host resolving to a non-public address. */
export async function webhookUrlProblem(
  url: string,
  options: Pick<WebhookHttpOptions, 'allowPrivate'>,
): Promise<string | null> {
  const shape = urlShapeProblem(url, options.allowPrivate);
  if ('problem' in shape) return shape.problem;
  const host = hostOf(shape.url);
  let addresses: string[];
  try {
    if (isIP(host)) addresses = [host];
    else {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), REGISTRATION_LOOKUP_MS);
      });
      addresses = (await Promise.race([resolveAll(host), late]).finally(() => clearTimeout(timer))).map(
        (a) => a.address,
      );
    }
  } catch {
    return `${host} does not resolve`;
  }
  return addressProblem(host, addresses, options.allowPrivate);
}

/**
 * A `lookup` for the socket: resolves every address of the name, refuses them all if any
 * one is not public (a name with an inside address is not a receiver, whichever address
 * the connection would have picked), and hands the socket only addresses it checked.
 */
function checkedLookup(allowPrivate: boolean): NonNullable<RequestOptions['lookup']> {
  return (hostname, options, callback) => {
    resolveAll(hostname).then(
      (found) => answer(null, found),
      (error: NodeJS.ErrnoException) => answer(error, []),
    );
    function answer(error: NodeJS.ErrnoException | null, found: LookupAddress[]) {
      if (error) return callback(error, '', 0);
      const problem = addressProblem(
        hostname,
        found.map((a) => a.address),
        allowPrivate,
      );
      if (problem !== null) return callback(new RefusedAddressError(problem), '', 0);
      if (found.length === 0) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
      // With autoSelectFamily (Node's default) the socket asks for every address.
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, found);
      const first = found[0] as LookupAddress;
      callback(null, first.address, first.family);
    }
  };
}

/** A network failure in words for a person. */
function unreachableReason(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host does not resolve';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host';
    default:
      return error.message || String(error.code);
  }
}

/**
 * POSTs body with the headers (plus content-type application/json, user-agent Mandate-Webhooks/1). Never throws for network reasons.
 *
 * The deadline covers the whole exchange. A receiver that sends its status and then does not
 * finish the body within it (up to maxResponseBytes) is `unreachable`, not `answered`: the
 * delivery is not known to have been taken, so it is tried again (receivers dedupe by
 * delivery id). A body longer than maxResponseBytes is not waited for: the first bytes are
 * kept, the socket is closed, and that is an answer.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: WebhookHttpOptions,
): Promise<WebhookHttpResult> {
  const shape = urlShapeProblem(url, options.allowPrivate);
  if ('problem' in shape) return { kind: 'refused', reason: shape.problem };
  const target = shape.url;
  const host = hostOf(target);
  // A literal address never reaches `lookup` (the socket connects to it directly): checked here.
  if (isIP(host)) {
    const problem = addressProblem(host, [host], options.allowPrivate);
    if (problem !== null) return { kind: 'refused', reason: problem };
  }

  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookHttpResult>((resolve) => {
    let settled = false;
    let status: number | undefined;
    const finish = (result: WebhookHttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Whatever is left unread stays unread: the socket goes, with anything it buffered.
      req.destroy();
      resolve(result);
    };

    const timer = setTimeout(() => {
      const seconds = options.timeoutMs / 1000;
      const reason =
        status === undefined
          ? `no answer within ${seconds} s`
          : `no answer within ${seconds} s (HTTP ${status} came, its body did not finish)`;
      finish({ kind: 'unreachable', reason });
    }, options.timeoutMs);

    const req = request({
      protocol: target.protocol,
      hostname: host,
      port: target.port || undefined,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'content-length': String(Buffer.byteLength(body)),
      },
      lookup: checkedLookup(options.allowPrivate),
      // A socket of its own: nothing kept from one receiver (or one resolution) to the next.
      agent: false,
    });

    req.on('error', (error: Error & { code?: string }) => {
      if (error instanceof RefusedAddressError) finish({ kind: 'refused', reason: error.message });
      else finish({ kind: 'unreachable', reason: unreachableReason(error) });
    });

    req.on('response', (res: IncomingMessage) => {
      const code = res.statusCode ?? 0;
      status = code;
      // Never followed: a redirect is an answer, its location reported for a person to see.
      const location = code >= 300 && code < 400 ? res.headers.location : undefined;
      const answered = (excerpt: string): WebhookHttpResult =>
        location === undefined
          ? { kind: 'answered', status: code, excerpt }
          : { kind: 'answered', status: code, excerpt, location };
      const chunks: Buffer[] = [];
      let kept = 0;
      // A multi-byte character cut at the limit is left out, not turned into U+FFFD.
      // NUL is replaced: the excerpt is stored as text, which PostgreSQL refuses it in.
      const text = () =>
        new StringDecoder('utf8')
          .write(Buffer.concat(chunks).subarray(0, options.maxResponseBytes))
          .replaceAll('\u0000', '\uFFFD');
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        kept += chunk.length;
        if (kept >= options.maxResponseBytes) finish(answered(text()));
      });
      res.on('end', () => finish(answered(text())));
      // Cut off in the middle of the body: like the deadline, not a finished answer.
      res.on('error', (error: Error & { code?: string }) =>
        finish({ kind: 'unreachable', reason: unreachableReason(error) }),
      );
    });

    req.end(body);
  });
}

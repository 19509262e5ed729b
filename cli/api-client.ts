/**
 * The partner API over HTTP, for the campaign commands: the client openapi-fetch makes
 * from cli/api-types.ts (generated from the document /openapi.json serves, so paths,
 * parameters and bodies cannot drift from the routes), with the bearer token; answers
 * checked against the server's own response schemas, problem+json turned into an error
 * that says its `code` and `detail`, and connection failures told apart from HTTP ones.
 */

import type { ParseArgsConfig } from 'node:util';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { z } from 'zod';
import { sanitizeEcho } from '../core/text.ts';
import type { paths } from './api-types.ts';
import { exitCodes } from './progress.ts';

/** `MANDATE_URL` when neither it nor `--url` is given. */
export const DEFAULT_MANDATE_URL = 'http://localhost:3000';

/** A mistake on the command line; the message is for the terminal, usage included. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The options and the one campaign id of `campaign <command> <id> …`, or null once the
 * help has been printed. Parse errors and a missing or extra id are usage errors.
 */
export function parseCampaignCommand<V extends { help?: boolean | undefined }>(
  argv: string[],
  parse: (argv: string[]) => { values: V; positionals: string[] },
  usage: string,
): { values: V; id: string } | null {
  let parsed: { values: V; positionals: string[] };
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    return null;
  }
  const [id, ...more] = parsed.positionals;
  if (id === undefined || more.length > 0) throw new UsageError(`Give exactly one campaign id.\n\n${usage}`);
  return { values: parsed.values, id };
}

/** The server answered with an error status. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    /** The problem document's `code` (`UNAUTHENTICATED`, `NOT_FOUND`…), when it had one. */
    readonly code: string | undefined,
    readonly detail: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(`${code ?? `HTTP ${status}`}: ${detail}`);
  }

  /** Worth asking again: the server or something in front of it is overloaded or restarting. */
  get transient(): boolean {
    return this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** No HTTP answer at all: refused, reset, timed out, unknown host. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/**
 * The options every command that talks to the API takes, for `parseArgs`: `--url` and
 * `--token` (read by {@link resolveConnection}), `--json` and `-h`/`--help`.
 */
export const apiCommandOptions = {
  json: { type: 'boolean', default: false },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export interface Connection {
  baseUrl: string;
  token: string;
}

/**
 * Where to connect, from `--url`/`--token` or else `MANDATE_URL`/`MANDATE_TOKEN`.
 * Throws a UsageError without a token or with a URL that is not http(s).
 */
export function resolveConnection(
  flags: { url?: string | undefined; token?: string | undefined },
  env: Record<string, string | undefined>,
  usage: string,
): Connection {
  const baseUrl = (flags.url ?? env.MANDATE_URL ?? DEFAULT_MANDATE_URL).replace(/\/+$/, '');
  let protocol: string;
  try {
    protocol = new URL(baseUrl).protocol;
  } catch {
    throw new UsageError(`The URL "${sanitizeEcho(baseUrl, 200)}" is not valid (--url or MANDATE_URL).\n\n${usage}`);
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`The URL must start with http:// or https:// (--url or MANDATE_URL).\n\n${usage}`);
  }
  const token = (flags.token ?? env.MANDATE_TOKEN ?? '').trim();
  if (token === '') {
    throw new UsageError(
      `A partner API token is needed: set MANDATE_TOKEN (or pass --token). \`partner create\` prints the owner's.\n\n${usage}`,
    );
  }
  return { baseUrl, token };
}

export interface CallOptions {
  /** Gives up after this long (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The partner API: paths, parameters, bodies and answers typed by cli/api-types.ts, generated from the document. */
export type PartnerApi = Client<paths>;

/** Reads the `cause` of undici's "fetch failed" into something a person can act on. */
function connectionProblem(error: unknown, url: string, timeoutMs: number): ConnectionError {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ConnectionError(`${url} did not answer within ${timeoutMs / 1000} s`);
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new ConnectionError(`Could not reach ${url}: ${reason}`);
}

async function readProblem(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as { code?: unknown; detail?: unknown; title?: unknown; errors?: unknown };
    if (
      problem &&
      typeof problem === 'object' &&
      (typeof problem.code === 'string' || typeof problem.detail === 'string')
    ) {
      const issues = Array.isArray(problem.errors)
        ? problem.errors
            .filter(
              (i): i is { path: string; message: string } =>
                typeof i?.path === 'string' && typeof i?.message === 'string',
            )
            .map((i) => ({ path: sanitizeEcho(i.path, 200), message: sanitizeEcho(i.message, 300) }))
        : [];
      const detail = typeof problem.detail === 'string' ? problem.detail : String(problem.title ?? response.statusText);
      return new ApiError(
        response.status,
        typeof problem.code === 'string' ? sanitizeEcho(problem.code, 60) : undefined,
        sanitizeEcho(detail, 500),
        issues,
      );
    }
  } catch {
    // Not JSON: a proxy's error page, say. Its first words are the best we have.
  }
  const excerpt = sanitizeEcho(text.replace(/\s+/g, ' ').trim(), 200);
  return new ApiError(response.status, undefined, `${response.statusText || 'error'}${excerpt ? ` — ${excerpt}` : ''}`);
}

const isJson = (contentType: string | null) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType ?? '');

/**
 * Every answer is judged here, before the generated client reads it: an error status
 * becomes an ApiError with the problem's `code` and `detail`; a success that is not JSON
 * (another server at that address, a captive portal) says so.
 */
function judgeAnswers(baseUrl: string): Middleware {
  return {
    async onResponse({ request, response }) {
      if (!response.ok) throw await readProblem(response);
      if (response.status !== 204 && !isJson(response.headers.get('content-type'))) {
        await response.body?.cancel();
        const path = new URL(request.url).pathname;
        throw new ApiError(
          response.status,
          undefined,
          `${request.method} ${path} did not answer JSON; is ${baseUrl} Mandate?`,
        );
      }
      return undefined;
    },
  };
}

/** What one call of the generated client gives back (openapi-fetch's `{ data, error, response }`). */
interface CallResult<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

export interface ApiClient {
  readonly baseUrl: string;
  /**
   * One call of the partner API through the generated client: `send` makes it with the
   * signal it is given (the timeout, and `options.signal`). Returns the answer once it
   * passes `schema` — the server's own schema of it, so a server of another version says
   * so instead of printing nonsense — with its headers. Throws an ApiError for an error
   * status or an unexpected answer, a ConnectionError when no answer came.
   */
  call<D>(
    send: (api: PartnerApi, signal: AbortSignal) => Promise<CallResult<D>>,
    schema: z.ZodType,
    options?: CallOptions,
  ): Promise<{ data: D; headers: Headers }>;
}

export interface ApiClientOptions {
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
}

export function createApiClient(connection: Connection, options: ApiClientOptions = {}): ApiClient {
  const { baseUrl } = connection;
  const api = createClient<paths>({
    baseUrl,
    headers: { accept: 'application/json', authorization: `Bearer ${connection.token}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  api.use(judgeAnswers(baseUrl));
  return {
    baseUrl,
    async call(send, schema, callOptions = {}) {
      const timeoutMs = callOptions.timeoutMs ?? 30_000;
      const timeout = AbortSignal.timeout(timeoutMs);
      let result: Awaited<ReturnType<typeof send>>;
      try {
        result = await send(api, callOptions.signal ? AbortSignal.any([timeout, callOptions.signal]) : timeout);
      } catch (error) {
        if (error instanceof ApiError || callOptions.signal?.aborted) throw error;
        // JSON announced but cut short or garbled on the way: as good as no answer.
        if (error instanceof SyntaxError)
          throw new ConnectionError(`${baseUrl} sent a broken answer: ${error.message}`);
        throw connectionProblem(error, baseUrl, timeoutMs);
      }
      // An error status never gets here (judgeAnswers threw), so `data` is the answer.
      const { data, response } = result;
      const parsed = schema.safeParse(data);
      if (data === undefined || !parsed.success) {
        const path = response.url ? new URL(response.url).pathname : baseUrl;
        throw new ApiError(
          response.status,
          undefined,
          `${path} answered something unexpected (${parsed.error?.issues[0]?.message ?? 'no body'}); is the CLI the same version as the server?`,
        );
      }
      return { data, headers: response.headers };
    },
  };
}

/** What the command line says about an error the commands let through; returns the exit code. */
export function reportCommandError(error: unknown, write: (text: string) => void): number {
  if (error instanceof UsageError || error instanceof ConnectionError) {
    write(`${error.message}\n`);
    return exitCodes.error;
  }
  if (error instanceof ApiError) {
    const lines = [`${error.code ? `${error.code} ` : ''}(HTTP ${error.status}): ${error.detail}`];
    for (const issue of error.issues.slice(0, 20)) lines.push(`  ${issue.path}: ${issue.message}`);
    if (error.code === 'UNAUTHENTICATED') lines.push('Check MANDATE_TOKEN (or --token): a partner API token.');
    if (error.code === 'IDEMPOTENCY_KEY_REUSED') {
      lines.push(
        'This file was sent to this offer in the last 24 hours with another --name: repeat that command to follow its campaign.',
      );
    }
    write(`${lines.join('\n')}\n`);
    return exitCodes.error;
  }
  throw error;
}

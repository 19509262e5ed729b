import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Deps } from '../lib/deps.ts';
import type { Logger } from '../lib/logger.ts';
import type { Viewer } from '../services/accounts/sessions.ts';
import type { PartnerPrincipal } from '../services/shared/principals.ts';

/** What every request handler can read from `c.var`. */
export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    /** The process logger with this request's id on every line. */
    logger: Logger;
    /** Set by the bearer-token middleware on /v1 routes. */
    principal: PartnerPrincipal;
    /** Who is signed in on the HTML pages (null: nobody). */
    viewer: Viewer | null;
  };
}

export type App = OpenAPIHono<AppEnv>;

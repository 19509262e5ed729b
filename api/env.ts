import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import type { Deps } from '../lib/deps.ts';
import type { Logger } from '../lib/logger.ts';
import type { Viewer } from '../services/accounts/sessions.ts';
import type { DelegationRead, PartnerPrincipal } from '../services/shared/principals.ts';

/** Where an HTML area's error pages lead back to (api/web/shared/error-page.tsx). */
export type PageHome = 'dashboard' | 'org';

/** What every request handler can read from `c.var`. */
export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    /** The process logger with this request's id on every line. */
    logger: Logger;
    /** Set by the bearer-token middleware on /v1 routes. */
    principal: PartnerPrincipal;
    /**
     * GET /v1/delegations/{id}: the delegation as the token's statement read it (null: none
     * of this partner's), so the route runs no statement of its own.
     */
    delegationRead?: DelegationRead | null;
    /** Who is signed in on the HTML pages (null: nobody). */
    viewer: Viewer | null;
    /**
     * Set by an HTML area on the paths it claims (`pageArea`): an address there that no
     * route answers gets a 404 page, and error pages lead back to this home.
     */
    pageHome?: PageHome;
  };
}

export type App = OpenAPIHono<AppEnv>;

/** The HTML pages (api/web): plain Hono, as nothing of them belongs in the OpenAPI document. */
export type WebApp = Hono<AppEnv>;

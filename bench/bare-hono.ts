/**
 * The API benchmark's baselines, run by bench/api.ts: bare Hono on @hono/node-server, no
 * middleware. `GET /v1/delegations/:id` answers BARE_GET_BODY (Mandate's own response, so
 * the bytes on the wire are the same); `POST /v1/delegations/:id/users` reads the JSON
 * body and answers 202 with BARE_POST_BODY.
 *
 * With BARE_DATABASE_URL (Mandate's bench database), `GET /db/v1/delegations/:id` also
 * does the database work of Mandate's GET with postgres.js alone — the same two
 * statements: the bearer token's lookup and the delegation with its events — before
 * answering the same bytes. That is the ceiling of the bare stack for this route.
 */
import { createHash } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';

const port = Number(process.env.PORT);
const getBody = process.env.BARE_GET_BODY ?? '{}';
const postBody = process.env.BARE_POST_BODY ?? '{}';
const json = { 'content-type': 'application/json' };

const app = new Hono();
app.get('/v1/delegations/:id', (c) => c.body(getBody, 200, json));
app.post('/v1/delegations/:id/users', async (c) => {
  await c.req.json();
  return c.body(postBody, 202, json);
});

const databaseUrl = process.env.BARE_DATABASE_URL;
if (databaseUrl) {
  // Mandate's default pool size (DATABASE_POOL_SIZE).
  const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} });
  app.get('/db/v1/delegations/:id', async (c) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    const [principal] = await sql`
      select t.id, u.id as user_id, u.email, s.partner_id, s.is_owner, s.roles
      from api_tokens t
      join users u on u.id = t.user_id
      join staff_access s on s.user_id = u.id and s.partner_id = t.org_id
      join organizations o on o.id = s.partner_id and o.kind = 'partner'
      where t.token_hash = ${createHash('sha256').update(token).digest('hex')} and t.revoked_at is null`;
    if (!principal) return c.body('{}', 401, json);
    const rows = await sql`
      select d.*, (
        select coalesce(json_agg(json_build_object(
          'event', e.event, 'fromState', e.from_state, 'toState', e.to_state,
          'actorType', e.actor_type, 'actorId', e.actor_id, 'detail', e.detail, 'at', e.created_at
        ) order by e.id), '[]'::json)
        from delegation_events e where e.delegation_id = d.id) as events
      from delegations d
      where d.id = ${c.req.param('id')} and d.partner_id = ${principal.partner_id}`;
    return rows.length > 0 ? c.body(getBody, 200, json) : c.body('{}', 404, json);
  });
}

// SIGTERM's default action ends it: there is nothing to drain.
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });

/**
 * The API benchmark's baselines, run by bench/api.ts: bare Hono on @hono/node-server, no
 * middleware. `GET /v1/delegations/:id` answers BARE_GET_BODY (Mandate's own response, so
 * the bytes on the wire are the same); `POST /v1/delegations/:id/users` reads the JSON
 * body and answers 202 with BARE_POST_BODY.
 *
 * With BARE_DATABASE_URL (Mandate's bench database), `GET /db/v1/delegations/:id` also
 * does the database work of Mandate's GET with postgres.js alone — the same statement:
 * the bearer token's lookup joined to the delegation with its events — before answering
 * the same bytes. That is the ceiling of the bare stack for this route.
 *
 * With BARE_OPERATIONS_DATABASE_URL (a database with the `items` and `item_events` tables
 * of bench/operations.ts), the operations baseline — the same kinds of work as a
 * provision-user, bare: `POST /ops/items` inserts a row and adds a BullMQ job (REDIS_URL,
 * BARE_QUEUE_PREFIX), and a worker in this process (BARE_CONCURRENCY) runs each job as
 * one transaction (a guarded UPDATE and an INSERT) and then sends one email with
 * nodemailer (pool of SMTP_POOL_SIZE, default 5) to SMTP_URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Queue, Worker } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import postgres from 'postgres';
import { retention } from '../lib/queues/names.ts';

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
      select t.id, u.id as user_id, u.email, s.partner_id, s.is_owner, s.roles, d as delegation, (
        select coalesce(json_agg(json_build_object(
          'event', e.event, 'fromState', e.from_state, 'toState', e.to_state,
          'actorType', e.actor_type, 'actorId', e.actor_id, 'detail', e.detail, 'at', e.created_at
        ) order by e.id), '[]'::json)
        from delegation_events e where e.delegation_id = d.id) as events
      from api_tokens t
      join users u on u.id = t.user_id
      join staff_access s on s.user_id = u.id and s.partner_id = t.org_id
      join organizations o on o.id = s.partner_id and o.kind = 'partner'
      left join delegations d on d.id = ${c.req.param('id')} and d.partner_id = s.partner_id
      where t.token_hash = ${createHash('sha256').update(token).digest('hex')} and t.revoked_at is null`;
    if (!principal) return c.body('{}', 401, json);
    return principal.delegation ? c.body(getBody, 200, json) : c.body('{}', 404, json);
  });
}

const operationsUrl = process.env.BARE_OPERATIONS_DATABASE_URL;
if (operationsUrl) {
  const sql = postgres(operationsUrl, { max: 10, onnotice: () => {} });
  const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const prefix = process.env.BARE_QUEUE_PREFIX ?? 'bare';
  const queue = new Queue('items', { connection, prefix, defaultJobOptions: retention });
  const mail = nodemailer.createTransport({
    url: process.env.SMTP_URL,
    pool: true,
    maxConnections: Number(process.env.SMTP_POOL_SIZE ?? 5),
  } as Parameters<typeof nodemailer.createTransport>[0]);
  let next = 0;
  app.post('/ops/items', async (c) => {
    const body = (await c.req.json()) as { name: string };
    const id = next++;
    await sql`insert into items (id, name, state) values (${id}, ${body.name}, 'queued')`;
    await queue.add('item', { id }, { jobId: `item.${id}` });
    return c.body(JSON.stringify({ id }), 202, json);
  });
  new Worker(
    'items',
    async (job) => {
      const id = (job.data as { id: number }).id;
      const claimed = await sql.begin(async (tx) => {
        const rows = await tx`update items set state = 'done', attempts = attempts + 1
                              where id = ${id} and state = 'queued' returning name`;
        if (rows.length > 0) await tx`insert into item_events (item_id) values (${id})`;
        return rows[0]?.name as string | undefined;
      });
      if (claimed === undefined) return;
      await mail.sendMail({
        from: 'Bench <no-reply@bench.example>',
        to: 'desk@partner.example',
        subject: `Your account ${claimed}`,
        text: `The account ${claimed} was created. Temporary password: ${randomBytes(16).toString('base64url')}`,
      });
    },
    { connection, prefix, concurrency: Number(process.env.BARE_CONCURRENCY ?? 10), ...retention },
  );
}

// SIGTERM's default action ends it: there is nothing to drain.
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });

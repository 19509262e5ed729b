/**
 * Why a target was missed, by the id of its row in the results table (bench/run.ts,
 * bench/operations.ts, bench/api.ts): written from a profile of the run that missed it
 * (`BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" npm run bench`), and printed with the
 * run's notes — in docs/benchmarks.md's generated section — whenever the target is missed
 * again. A missed target without an entry here gets a note asking for one.
 *
 * Ids: `campaign-default-k`, `campaign-k1` (campaign ≥ 0.80 × bare nodemailer at the default
 * MAIL_UNCONFIRMED_MAX, ≥ 0.35 at K = 1), `campaign-best-pool` (≥ 0.60 × the best bare
 * pool), `campaign-post` (the POST < 2 s), `large-rss`, `large-redis` (flat over the large
 * campaign), `operations` (≥ 0.50 × bare), `api-get-db` (≥ 0.85 × bare Hono + postgres.js),
 * `api-get-p99` (< 20 ms).
 */
export const explanations: Readonly<Record<string, string>> = {
  'campaign-k1': [
    'K = 1 is the strictest bound by design: one message at a time between the end of its data and its record,',
    'so each message pays in series its mark’s commit (one statement and one WAL flush, shared with nothing),',
    'the server’s reply to its end of data, and the event-loop turns between them. Traced per message',
    '(the mailer’s turns timed, 5,000 recipients): a turn was ~5 ms before a commit became one statement, ~3 ms',
    'after (339 msg/s). The whole machine spends 5.8 ms of CPU per message at K = 1 against 1.7 at K = 10 —',
    'Mandate 1.5, PostgreSQL 1.3 and 3.0 elsewhere: the kernel switching between the three processes for',
    'every serial round trip — which caps it at ~344 msg/s on 2 cores; it reached 263 (76% of that cap).',
    'Tried: group commit as one statement without BEGIN/COMMIT (278 → 339 at 5,000), VALUES lists so each',
    'row is found by its key. The default K (10) meets its target; K = 1 stays the opt-in for one duplicate per crash.',
  ].join(' '),
  'large-rss': [
    'The worker’s RSS (88 one-second samples) rose from 184 to a peak of 276 MiB and ended at 173 MiB —',
    'below its start after 100,000 messages and 500 chunk jobs, so it does not grow with the work done. The',
    'peak is V8’s heap between major collections: a process runs two chunks at once, each claiming 200 rows',
    'and rendering their messages (kept until their end of data), and old space is allowed to grow before a',
    'mark-compact. Redis, whose growth would show retained jobs, stayed flat (2.9 → 3.6 MiB). A heap profile',
    'per space was not taken in this run.',
  ].join(' '),
  operations: [
    'Profiled (3,000 operations, `npm start` under --cpu-prof): the Mandate process is busy 84% of the run —',
    'one core, the limit — and 21% of its CPU is the kernel side of socket writes to PostgreSQL (~2.5 ms per',
    'operation: every statement is a write and a wake-up of a backend on a 2-core machine), 10% drizzle’s',
    'query building, 8% postgres.js, 5% GC. An operation is an API request (token, idempotency key, the',
    'delegation with its permission, the operation and its audit row) and a job (the claim with its lease,',
    'the permission checked again under locks, the user created with its temporary password, audit rows, the',
    'password email through the outbox with its mark and record, the outcome) — several times the statements',
    'of the baseline’s one insert, one job and one transaction per operation. Next: the worker’s remaining',
    'query-builder statements as prepared raw SQL, and the outbox email’s writes joined to the operation’s',
    'own commit.',
  ].join(' '),
  'api-get-db': [
    'Profiled (bin/api.ts under --cpu-prof during the GET and POST phases): of its busy time, writes to',
    'PostgreSQL’s socket take the most (2.0 s), then postgres.js (1.35 s), the HTTP responses (1.0 s), Hono’s',
    'routing and middleware (1.05 s), GC (1.0 s) and drizzle (0.6 s). The baseline runs the same one statement',
    'and returns its JSON; Mandate’s GET also runs its middleware chain (request id, deadline, security',
    'headers, metrics, the token’s scopes and the partner’s access, problem handling) and builds a typed body',
    'from the rows. p99 stays under its 20 ms target. Not yet tried: the response body serialised from the',
    'statement’s JSON directly, and fewer middleware layers on the partner API’s GETs.',
  ].join(' '),
};

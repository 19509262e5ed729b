import path from 'node:path';
import { z } from 'zod';
import { isLoopbackAddress } from '../core/client-address.ts';
import type { DatabaseTimeouts } from '../db/client.ts';
import { keepDevLinkSecret, newLinkSecret } from './dev/link-secret.ts';

/** Booleans from the environment: `true/false`, `1/0`, `yes/no`. */
const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

/** Where PostgreSQL is looked for when DATABASE_URL is unset. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/mandate';
/** Where the embedded PostgreSQL's things go, as root, when its user cannot reach the project's (EMBEDDED_PG_SYSTEM_DIR). */
export const DEFAULT_EMBEDDED_PG_SYSTEM_DIR = '/var/lib/mandate/embedded-postgres';

const postgresUrl = url(['postgres:', 'postgresql:']);

/** A PostgreSQL timeout in ms; 0 turns it off (PostgreSQL's own meaning of 0). At most 24 hours. */
const timeoutMs = z.coerce
  .number()
  .int()
  .min(0)
  .max(24 * 3600 * 1000);

/** Where Redis is looked for when REDIS_URL is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Every setting Mandate reads from the environment. Parsed once at start-up by
 * {@link loadConfig}; nothing else reads `process.env`.
 */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** Port of the HTTP server. Default 3000. */
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /**
     * Interface the HTTP server binds to. Default 127.0.0.1 (0.0.0.0 in containers). Outside
     * production the API refuses any but a loopback one (see ALLOW_DEV_MODE_ON_NETWORK).
     */
    HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * Let the API serve development mode (NODE_ENV not production) on a HOST other machines
     * can reach: a shared test server, a container. /dev/mail still answers this machine
     * only. Default false.
     */
    ALLOW_DEV_MODE_ON_NETWORK: envBool.default(false),
    /**
     * Development state, kept between runs: the development link key (`link-secret`, when
     * LINK_SECRET is unset) and the embedded PostgreSQL's data (`pg/`, unless
     * EMBEDDED_PG_DIR). Default `./.data`.
     */
    DATA_DIR: z.string().min(1).default('.data'),
    /** Base URL people reach the app at; offer links start with it. Default http://localhost:PORT. */
    PUBLIC_URL: url(['http:', 'https:']).optional(),
    /**
     * PostgreSQL's URL, or `embedded`: `npm start` runs a private PostgreSQL
     * (lib/dev/embedded-postgres.ts). Unset, `npm start` uses the default address if anything
     * answers there, else the embedded one; the other entry points use the default address.
     */
    DATABASE_URL: z
      .string()
      .trim()
      .refine(
        (v) => v === 'embedded' || postgresUrl.safeParse(v).success,
        'must be a URL starting with postgres:// or postgresql://, or `embedded`',
      )
      .optional(),
    /** Data directory of the embedded PostgreSQL, kept between runs. Default `DATA_DIR/pg`. */
    EMBEDDED_PG_DIR: z.string().min(1).optional(),
    /**
     * Where `npm start` run as root keeps the embedded PostgreSQL's binaries (a copy, for the
     * run) and data when the user `postgres` it runs as cannot reach the project's (a clone
     * in a 0700 home). Must be root's and writable by root only. Default
     * `/var/lib/mandate/embedded-postgres`.
     */
    EMBEDDED_PG_SYSTEM_DIR: z.string().min(1).default(DEFAULT_EMBEDDED_PG_SYSTEM_DIR),
    /** Port of the embedded PostgreSQL on 127.0.0.1; a free one if taken, or with 0. Default 54329. */
    EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65535).default(54329),
    /** Connections in the PostgreSQL pool of each process. Default 10. */
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    /**
     * Longest a statement of the API's pool may run, in ms (PostgreSQL's statement_timeout,
     * waits for locks included); 0 = no limit. Hit, the request answers 503
     * DATABASE_TIMEOUT. Default 15000.
     */
    DATABASE_API_STATEMENT_TIMEOUT_MS: timeoutMs.default(15_000),
    /** Longest a statement of the API's pool waits for one lock, in ms (lock_timeout); 0 = no limit. Default 5000. */
    DATABASE_API_LOCK_TIMEOUT_MS: timeoutMs.default(5_000),
    /**
     * Longest the API waits for PostgreSQL to say anything while a query of its pool waits,
     * in ms; then the connection is presumed cut off (a partition, a frozen server), closed,
     * and the request answers 503 DATABASE_TIMEOUT. The server's statement timeout answers
     * slow queries first, so it must be longer. 0 = no limit; not applied under TLS.
     * Default DATABASE_API_STATEMENT_TIMEOUT_MS + 5000 (0 when that is 0).
     */
    DATABASE_API_REPLY_TIMEOUT_MS: timeoutMs.optional(),
    /**
     * Longest a new PostgreSQL connection of any pool may take to be ready (TCP, TLS,
     * sign-in), in ms; 0 = no limit. Default 5000.
     */
    DATABASE_CONNECT_TIMEOUT_MS: timeoutMs.default(5_000),
    /**
     * Longest a statement of the workers' pool may run, in ms; 0 = no limit. Hit, the job
     * fails with DATABASE_TIMEOUT and is retried. Default 60000.
     */
    DATABASE_WORKER_STATEMENT_TIMEOUT_MS: timeoutMs.default(60_000),
    /** Longest a statement of the workers' pool waits for one lock, in ms; 0 = no limit. Default 10000. */
    DATABASE_WORKER_LOCK_TIMEOUT_MS: timeoutMs.default(10_000),
    /** Longest a migration statement may run, in ms; 0 = no limit. Default 0: a migration may rewrite a big table. */
    DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS: timeoutMs.default(0),
    /**
     * Longest a migration statement waits for a lock, in ms; 0 = no limit. An ALTER TABLE
     * queued behind a long transaction blocks every query of that table while it waits:
     * better to fail the migration (and run it again) than to stall the application.
     * Waiting for another process's migration does not count. Default 5000.
     */
    DATABASE_MIGRATION_LOCK_TIMEOUT_MS: timeoutMs.default(5_000),
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    /**
     * Longest a Redis command a request waits on (an enqueue, a rate limit) may take, in ms,
     * and a connection to Redis its handshake; then the request goes on without it (an
     * enqueue: the reconciler enqueues later; a limit: counted in this process's memory
     * meanwhile). A worker's own connection waits for Redis instead. Default 2000.
     */
    REDIS_API_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
    /**
     * Where the queues live: `redis`, `postgres` (BullMQ's PostgreSQL backend, in the
     * database of DATABASE_URL), or `auto` — Redis when REDIS_URL is set or a Redis answers
     * at the default address, else PostgreSQL. Default auto.
     */
    QUEUE_BACKEND: z.enum(['redis', 'postgres', 'auto']).default('auto'),
    /** Prefix of every queue key in Redis; lets several instances share one Redis. Default `mandate`. */
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
      .default('mandate'),
    /**
     * The SMTP server mail goes to. Unset (not allowed in production), mail is kept in the
     * development mailbox instead (lib/dev-mail.ts, shown at /dev/mail) and never sent.
     */
    SMTP_URL: url(['smtp:', 'smtps:']).optional(),
    /** Connections the pooled SMTP transport keeps open per worker process. Default 5. */
    SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
    /** Sender of every email, e.g. `Mandate <no-reply@example.com>`. */
    MAIL_FROM: z.string().min(3).default('Mandate <no-reply@localhost>'),
    /**
     * Domain of the per-send return paths of offer emails (`<delegation id>.<attempt>-<tag>@domain`,
     * the tag an HMAC under LINK_SECRET), so a bounce that comes back later names its
     * delegation. Its MX must point at the bounce listener (BOUNCE_SMTP_PORT; README). Unset:
     * offer emails go out with MAIL_FROM's address as return path, and later bounces are not read.
     */
    MAIL_BOUNCE_DOMAIN: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a domain name')
      .optional(),
    /**
     * Port of the bounce listener (an SMTP server for MAIL_BOUNCE_DOMAIN only) that worker
     * processes run; 25 behind the MX. Unset: no listener. Needs MAIL_BOUNCE_DOMAIN. 1–65535:
     * 0 (any free port) would put the listener where no MX points.
     */
    BOUNCE_SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Interface the bounce listener binds to. Default: HOST. */
    BOUNCE_SMTP_HOST: z.string().min(1).optional(),
    /**
     * Largest message the bounce listener takes, in bytes; larger ones are refused (552) and
     * counted. A report with the returned offer email is ~20 KB. Default 262144 (256 KiB).
     */
    BOUNCE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(4096)
      // A report is read whole into memory: at most 10 MB, even if an operator asks for more.
      .max(10 * 1024 * 1024)
      .default(256 * 1024),
    /**
     * Campaign emails (offers) per second across all workers, paced in the send pipeline
     * through one shared row (lib/send-pace.ts); 0 turns the limit off. Default 100.
     */
    SEND_RATE_PER_SECOND: z.coerce.number().int().min(0).max(100_000).default(100),
    /**
     * Transactional emails (the outbox: address confirmations, notifications) per second
     * across all workers, a limit of their own on their own queue so that no campaign delays
     * them; 0 turns it off. The SMTP server sees at most the sum of the two rates. Default 20
     * (docs/adr/0025-fairness-between-partners-and-kinds-of-mail.md).
     */
    TRANSACTIONAL_SEND_RATE_PER_SECOND: z.coerce.number().int().min(0).max(100_000).default(20),
    /**
     * Campaign recipients one partner may send to in any 24 hours; a campaign that would
     * exceed it is refused at creation (429 DAILY_SEND_LIMIT_EXCEEDED). Unset: no limit.
     */
    PARTNER_DAILY_SEND_LIMIT: z.coerce.number().int().min(1).max(100_000_000).optional(),
    /**
     * Recipients per chunk of a campaign: a worker takes a chunk at a time and claims its
     * recipients in one statement per group (docs/adr/0027). Default 200.
     */
    CAMPAIGN_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
    /**
     * A worker process that has not beaten (written its heartbeat, every third of this) for
     * this many seconds is gone: the sends it held are free at once, not at the end of their
     * lease. Default 15.
     */
    PROCESS_STALE_SECONDS: z.coerce.number().int().min(3).max(3600).default(15),
    /**
     * Emails one worker process has in flight at once, per mail queue (campaign chunks'
     * recipients, transactional jobs). Default 20.
     */
    MAIL_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(20),
    /** Jobs of the other queues one worker process runs at once. Default 10. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
    /**
     * Emails one worker process may have delivered but not yet recorded at once — the most a
     * crash of that process can duplicate. 1 is the strictest; more trades that bound for
     * throughput, up to twice SMTP_POOL_SIZE (docs/adr/0026). Default twice SMTP_POOL_SIZE
     * (10): every pooled connection may have one message finishing and the next one marked.
     */
    MAIL_UNCONFIRMED_MAX: z.coerce.number().int().min(1).max(200).optional(),
    /** Attempts at sending one email before it counts as failed for good. Default 10. */
    MAIL_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
    /** First retry delay of an email in ms; doubles each attempt. Default 30000. */
    MAIL_BACKOFF_MS: z.coerce.number().int().min(0).default(30_000),
    /**
     * Key from which per-recipient offer links are derived (HMAC-SHA256), so a resent
     * email carries the same link. At least 32 characters; required in production. Unset
     * elsewhere: a key generated once and kept in DATA_DIR (entry points), or a random one
     * per process (tests, tools); never a constant.
     */
    LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** How long a stopping worker waits for running jobs, in ms. Default 30000. */
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
    /**
     * How long a worker holds a claimed send or operation before another may take it over
     * (after a crash). Longer than any SMTP timeout. Default 180.
     */
    LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(180),
    /**
     * An `Idempotency-Key` claim whose request stopped answering (its process died, the
     * database went away) for this long is looked at again: taken over when its request
     * took no effect, answered 409 IDEMPOTENT_RESPONSE_LOST when it did. Renewed while the
     * request runs. Default 30.
     */
    IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    /** Work untouched for this long is re-examined by the reconciler. Default 120. */
    RECONCILE_MIN_AGE_SECONDS: z.coerce.number().int().min(0).default(120),
    /**
     * Days audit rows are kept; older ones are pruned by the reconciler's housekeeping
     * (and by nothing else). Default 400.
     */
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(400),
    /**
     * Days a notification email is kept once it is sent or has failed for good (the outbox
     * is also the record of what was said to whom). Pending ones are never pruned. Default 90.
     */
    EMAIL_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(90),
    /**
     * Days a finished operation (succeeded, failed, rejected) is kept after it finished;
     * `GET /v1/operations/{id}` answers 404 after that, the audit row stays. Default 180.
     */
    OPERATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(180),
    /**
     * Days the timeline of a delegation that has ended (declined, expired, terminated) is
     * kept after its end; the delegation row itself stays. Default 365.
     */
    DELEGATION_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
    /**
     * Days a bounce report (delegation_bounces) is kept after it was received. Default 90.
     */
    BOUNCE_REPORT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(90),
    /** Days a finished webhook delivery (delivered or failed) is kept. Default 30. */
    WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
    /**
     * Let webhooks go to private, loopback and link-local addresses, and over plain `http`
     * to them: for tests and receivers inside the operator's own network. Default false:
     * only `https` to public addresses, checked at every delivery.
     */
    WEBHOOK_ALLOW_PRIVATE: envBool.default(false),
    /** How long a receiver has to answer a delivery, in milliseconds. Default 10 000. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /**
     * Multiplies the waits between a delivery's tries (5 s … 12 h, about three days in all,
     * core/webhook-events.ts). Default 1; tests shrink it.
     */
    WEBHOOK_RETRY_SCALE: z.coerce.number().positive().max(100).default(1),
    /** Deliveries a worker process makes at once (they mostly wait on receivers). Default 10. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(10),
    /** Days an expiry notice's claim is kept after the end date it was for. Default 30. */
    EXPIRY_NOTICE_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
    /** Days an unconfirmed sign-up (with its password hash) is kept after it expired or was used. Default 7. */
    SIGNUP_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(7),
    /** Days a message stays in the development mailbox. Default 14. */
    DEV_MAIL_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(14),
    /**
     * Tries of a migration that cannot get its locks within DATABASE_MIGRATION_LOCK_TIMEOUT_MS,
     * with a doubling wait between (1 s, 2 s, 4 s…). Default 5.
     */
    DATABASE_MIGRATION_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
    /** How often the reconciler re-enqueues unfinished work, in ms. Default 60000. */
    RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
    /** DNS servers for domain verification, comma-separated `host[:port]`. Default: the system's. */
    DNS_SERVERS: z
      .string()
      .regex(/^[0-9a-fA-F.:[\]]+(,[0-9a-fA-F.:[\]]+)*$/, 'comma-separated IP addresses, optionally with :port')
      .optional(),
    /** How long a domain verification keeps looking for its TXT record. Default 72 hours. */
    DOMAIN_VERIFY_DEADLINE_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .default(72 * 3600),
    /** First wait between DNS lookups in ms; doubles up to 30 minutes. Default 60000. */
    DOMAIN_VERIFY_RETRY_MS: z.coerce.number().int().min(10).default(60_000),
    /**
     * Every client organization gets an initial domain under this one
     * (`c<id>.<suffix>`) for users before it verifies its own. Default `clients.mandate.localhost`.
     */
    INITIAL_DOMAIN_SUFFIX: z
      .string()
      .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a lower-case domain name')
      .default('clients.mandate.localhost'),
    /**
     * Bearer token /metrics requires when set. Unset, /metrics answers only clients on the
     * loopback interface (not through a proxy). At least 16 characters.
     */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /**
     * Port on which a worker process started alone (`npm run worker`) serves /metrics, on
     * HOST. Unset: none (the API serves /metrics for its own process).
     */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    /**
     * The partner that operates this instance: its owners may open the job board, which
     * shows every partner's jobs. Unset, the board opens only while the instance has a
     * single partner.
     */
    OPERATOR_PARTNER_ID: z
      .string()
      .regex(/^org_[0-9a-f]{32}$/, 'a partner id (org_…)')
      .optional(),
    /** Take the client address from X-Forwarded-For (behind a reverse proxy). Default false. */
    TRUST_PROXY: envBool.default(false),
    /**
     * A browser session (the pages, the dashboard) ends after this many minutes without a
     * request. Default 30.
     */
    SESSION_IDLE_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(30),
    /** A browser session ends this many hours after sign-in, however busy. Default 12. */
    SESSION_MAX_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 24)
      .default(12),
    /** How often the lifecycle sweep (expiry, auto-extend, notices) runs, in ms. Default 60000. */
    LIFECYCLE_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * Pretty, human-readable logs instead of JSON lines (to a file or a pipe: one line a
     * record, no colours). Default: on in development at a terminal.
     */
    LOG_PRETTY: envBool.optional(),
    /**
     * Longest an API request (/v1) may take to answer, in ms; then it answers 503
     * DEADLINE_EXCEEDED, its outcome unknown. A last resort: longer than the database's and
     * Redis's own bounds, which answer first and say which. 0 = no limit. Default 30000.
     */
    REQUEST_TIMEOUT_MS: timeoutMs.default(30_000),
    /** Largest request body in bytes for campaign uploads (JSON or CSV). Default 32 MiB. */
    MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024),
  })
  .transform((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.LINK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['LINK_SECRET'],
        message: 'is required in production (32+ random characters, e.g. `openssl rand -base64 48`)',
      });
    }
    if (env.NODE_ENV === 'production' && !env.SMTP_URL) {
      // Without it mail would go to the development mailbox: never silently in production.
      ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'is required in production' });
    }
    if (env.BOUNCE_SMTP_PORT !== undefined && !env.MAIL_BOUNCE_DOMAIN) {
      ctx.addIssue({
        code: 'custom',
        path: ['BOUNCE_SMTP_PORT'],
        message: 'needs MAIL_BOUNCE_DOMAIN (the domain the listener takes mail for)',
      });
      return z.NEVER;
    }
    if (env.NODE_ENV === 'production' && (!env.LINK_SECRET || !env.SMTP_URL)) return z.NEVER;
    const embeddedPostgres: 'always' | 'never' | 'auto' =
      env.DATABASE_URL === 'embedded' ? 'always' : env.DATABASE_URL ? 'never' : 'auto';
    const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
    return {
      env: env.NODE_ENV,
      port: env.PORT,
      host: env.HOST,
      publicUrl,
      databaseUrl: env.DATABASE_URL && env.DATABASE_URL !== 'embedded' ? env.DATABASE_URL : DEFAULT_DATABASE_URL,
      /**
       * `npm start` only: `always` (DATABASE_URL=embedded), `auto` (DATABASE_URL unset: when
       * nothing answers at the default address) or `never`. start.ts swaps `databaseUrl`
       * for the embedded server's.
       */
      embeddedPostgres,
      embeddedPostgresDir: env.EMBEDDED_PG_DIR ?? path.join(env.DATA_DIR, 'pg'),
      embeddedPostgresSystemDir: env.EMBEDDED_PG_SYSTEM_DIR,
      dataDir: env.DATA_DIR,
      allowDevModeOnNetwork: env.ALLOW_DEV_MODE_ON_NETWORK,
      embeddedPostgresPort: env.EMBEDDED_PG_PORT,
      databasePoolSize: env.DATABASE_POOL_SIZE,
      /** statement_timeout and lock_timeout of each pool, in ms (0: none). */
      databaseTimeouts: {
        api: {
          statementMs: env.DATABASE_API_STATEMENT_TIMEOUT_MS,
          lockMs: env.DATABASE_API_LOCK_TIMEOUT_MS,
          // A request's transaction cut off from its process (a partition, a frozen process)
          // ends well inside an Idempotency-Key's lease, and with it the claim's row lock (ADR 19).
          idleInTransactionMs: 10_000,
          replyMs:
            env.DATABASE_API_REPLY_TIMEOUT_MS ??
            (env.DATABASE_API_STATEMENT_TIMEOUT_MS ? env.DATABASE_API_STATEMENT_TIMEOUT_MS + 5_000 : 0),
        },
        workers: { statementMs: env.DATABASE_WORKER_STATEMENT_TIMEOUT_MS, lockMs: env.DATABASE_WORKER_LOCK_TIMEOUT_MS },
        migrations: {
          statementMs: env.DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS,
          lockMs: env.DATABASE_MIGRATION_LOCK_TIMEOUT_MS,
        },
      } satisfies Record<'api' | 'workers' | 'migrations', DatabaseTimeouts>,
      databaseConnectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      redisUrl: env.REDIS_URL ?? DEFAULT_REDIS_URL,
      redisApiCommandTimeoutMs: env.REDIS_API_COMMAND_TIMEOUT_MS,
      /** Resolved to `redis` or `postgres` by `resolveQueueBackend` before use. */
      queueBackend: env.QUEUE_BACKEND === 'auto' && env.REDIS_URL ? ('redis' as const) : env.QUEUE_BACKEND,
      queuePrefix: env.QUEUE_PREFIX,
      smtpUrl: env.SMTP_URL,
      smtpPoolSize: env.SMTP_POOL_SIZE,
      mailFrom: env.MAIL_FROM,
      mailBounceDomain: env.MAIL_BOUNCE_DOMAIN,
      bounceSmtpPort: env.BOUNCE_SMTP_PORT,
      bounceSmtpHost: env.BOUNCE_SMTP_HOST ?? env.HOST,
      bounceMaxBytes: env.BOUNCE_MAX_BYTES,
      sendRatePerSecond: env.SEND_RATE_PER_SECOND,
      transactionalSendRatePerSecond: env.TRANSACTIONAL_SEND_RATE_PER_SECOND,
      partnerDailySendLimit: env.PARTNER_DAILY_SEND_LIMIT,
      mailConcurrency: env.MAIL_CONCURRENCY,
      campaignChunkSize: env.CAMPAIGN_CHUNK_SIZE,
      processStaleSeconds: env.PROCESS_STALE_SECONDS,
      workerConcurrency: env.WORKER_CONCURRENCY,
      mailAttempts: env.MAIL_ATTEMPTS,
      mailUnconfirmedMax: env.MAIL_UNCONFIRMED_MAX ?? 2 * env.SMTP_POOL_SIZE,
      mailBackoffMs: env.MAIL_BACKOFF_MS,
      lifecycleIntervalMs: env.LIFECYCLE_INTERVAL_MS,
      trustProxy: env.TRUST_PROXY,
      sessionIdleMinutes: env.SESSION_IDLE_MINUTES,
      sessionMaxHours: env.SESSION_MAX_HOURS,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
      reconcileMinAgeSeconds: env.RECONCILE_MIN_AGE_SECONDS,
      auditRetentionDays: env.AUDIT_RETENTION_DAYS,
      emailRetentionDays: env.EMAIL_RETENTION_DAYS,
      operationRetentionDays: env.OPERATION_RETENTION_DAYS,
      delegationEventRetentionDays: env.DELEGATION_EVENT_RETENTION_DAYS,
      expiryNoticeRetentionDays: env.EXPIRY_NOTICE_RETENTION_DAYS,
      bounceReportRetentionDays: env.BOUNCE_REPORT_RETENTION_DAYS,
      webhookDeliveryRetentionDays: env.WEBHOOK_DELIVERY_RETENTION_DAYS,
      webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
      webhookTimeoutMs: env.WEBHOOK_TIMEOUT_MS,
      webhookRetryScale: env.WEBHOOK_RETRY_SCALE,
      webhookConcurrency: env.WEBHOOK_CONCURRENCY,
      signupRetentionDays: env.SIGNUP_RETENTION_DAYS,
      devMailRetentionDays: env.DEV_MAIL_RETENTION_DAYS,
      migrationAttempts: env.DATABASE_MIGRATION_ATTEMPTS,
      leaseSeconds: env.LEASE_SECONDS,
      idempotencyLeaseSeconds: env.IDEMPOTENCY_LEASE_SECONDS,
      dnsServers: env.DNS_SERVERS ? env.DNS_SERVERS.split(',') : [],
      domainVerifyDeadlineSeconds: env.DOMAIN_VERIFY_DEADLINE_SECONDS,
      domainVerifyRetryMs: env.DOMAIN_VERIFY_RETRY_MS,
      initialDomainSuffix: env.INITIAL_DOMAIN_SUFFIX,
      // Replaced by the key kept in DATA_DIR when loadConfig is asked to keep one.
      linkSecret: env.LINK_SECRET ?? newLinkSecret(),
      linkSecretIsDefault: !env.LINK_SECRET,
      /** Where the development link key is kept, when it is (LINK_SECRET unset, see loadConfig). */
      linkSecretFile: undefined as string | undefined,
      logLevel: env.LOG_LEVEL,
      // Pretty (colours, several lines a record) only for a person at a terminal: logs sent
      // to a file or a collector stay JSON lines, one per record.
      logPretty: env.LOG_PRETTY ?? (env.NODE_ENV === 'development' && process.stderr.isTTY === true),
      maxUploadBytes: env.MAX_UPLOAD_BYTES,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      metricsToken: env.METRICS_TOKEN,
      metricsPort: env.METRICS_PORT,
      operatorPartnerId: env.OPERATOR_PARTNER_ID,
    };
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once. Throws a {@link ConfigError} whose message names every
 * bad variable, so start-up fails fast with something a person can act on.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {},
): Config {
  // Empty strings count as unset: `FOO= npm start` should mean "use the default".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (parsed.success) {
    const config = parsed.data;
    if (config.embeddedPostgres === 'always' && !options.embeddedPostgres) {
      throw new ConfigError(
        'Invalid configuration:\n  DATABASE_URL: `embedded` works with `npm start` only; give this process the URL `npm start` logged (postgres://postgres@127.0.0.1:<port>/mandate)',
      );
    }
    if (
      options.servesHttp &&
      config.env !== 'production' &&
      !config.allowDevModeOnNetwork &&
      !isLoopbackHost(config.host)
    ) {
      throw new ConfigError(
        `Invalid configuration:\n  HOST: development mode listens on this machine only — its mailbox (/dev/mail) and link key are the developer's. Use 127.0.0.1, ::1 or localhost; set NODE_ENV=production; or set ALLOW_DEV_MODE_ON_NETWORK=true to serve development mode to the network anyway (got ${JSON.stringify(config.host)})`,
      );
    }
    if (options.keepDevLinkSecret && config.linkSecretIsDefault && config.env !== 'production') {
      return { ...config, ...keptLinkSecret(config.dataDir) };
    }
    return config;
  }
  const lines = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    // Never echo values that may carry credentials (secrets, URLs with passwords).
    const echo = typeof present[name] === 'string' && !/SECRET|TOKEN|URL/.test(name);
    const value = echo ? ` (got ${JSON.stringify(present[name])})` : '';
    return `  ${name}: ${issue.message}${value}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

export interface LoadConfigOptions {
  /** Accept DATABASE_URL=embedded: only `npm start` (start.ts) runs the embedded PostgreSQL. Default false. */
  embeddedPostgres?: boolean;
  /**
   * This process serves the API and its pages on HOST (start.ts, bin/api.ts): outside
   * production, refuse a HOST other machines can reach unless ALLOW_DEV_MODE_ON_NETWORK.
   * A worker's /metrics guards itself. Default false.
   */
  servesHttp?: boolean;
  /**
   * LINK_SECRET unset outside production: use the key kept in DATA_DIR, generating it the
   * first time. The entry points do ({@link loadConfigOrExit}); default false, so a test's
   * loadConfig writes no file (its key is random).
   */
  keepDevLinkSecret?: boolean;
}

/** A HOST only this machine reaches: a loopback address, or `localhost`. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host.replace(/^\[(.*)\]$/, '$1'));
}

function keptLinkSecret(dataDir: string): { linkSecret: string; linkSecretFile: string } {
  let kept: { secret: string; file: string };
  try {
    kept = keepDevLinkSecret(dataDir);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Invalid configuration:\n  DATA_DIR: cannot keep the development link key there (${reason})`);
  }
  if (kept.secret.length < 32) {
    throw new ConfigError(
      `Invalid configuration:\n  DATA_DIR: the development link key in ${kept.file} is shorter than 32 characters; delete the file to get a new one`,
    );
  }
  return { linkSecret: kept.secret, linkSecretFile: kept.file };
}

/**
 * {@link loadConfig} for entry points: keeps the development link key in DATA_DIR, and
 * prints the problem and exits 2 instead of throwing.
 */
export function loadConfigOrExit(
  env: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {},
): Config {
  try {
    return loadConfig(env, { keepDevLinkSecret: true, ...options });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

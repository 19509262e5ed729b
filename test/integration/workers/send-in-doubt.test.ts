import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableSendError } from '../../../core/smtp-outcome.ts';
import { createDb, createSql } from '../../../db/client.ts';
import { commitGroupOf } from '../../../lib/commit-group.ts';
import { createMailer, type Mailer } from '../../../lib/mailer.ts';
import { sendOffer } from '../../../services/campaigns/send-offer.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type FaultProxy, startFaultProxy } from '../../helpers/fault-proxy.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A process claims many recipients at once, but only a message whose end of data went to
 * the server can have been delivered. Here the server never answers (the process is cut off
 * from it, or crashes before any message is through), so none of the claimed recipients
 * got anything: after two such crashes, they must still be sent, not recorded `offered`
 * on assumption — all but the one (MAIL_UNCONFIRMED_MAX) whose turn to end its data came.
 */
let stack: TestStack;
let sink: SmtpSink;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
const abandoned: { mailer: Mailer; sends: Promise<unknown>[] }[] = [];
let proxy: FaultProxy | undefined;
let token: string;
let offerId: string;

beforeAll(async () => {
  sink = await startSmtpSink({
    // Every attempt for these recipients: the data arrives, the connection drops unanswered.
    dataRule: (to) => (to.startsWith('drop-always') ? 'drop' : undefined),
    // A slow answer to the data, so that many messages are on their way at once.
    dataDelayMs: 150,
  });
  // Accepts connections and never says a word: no greeting, so no message can get through.
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  // K = 1, the strictest bound, unless a test says otherwise.
  stack = await createTestStack({ env: { SMTP_URL: sink.url, LEASE_SECONDS: '1', MAIL_UNCONFIRMED_MAX: '1' } });
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token)).id;
});
afterAll(async () => {
  await proxy?.close();
  for (const { mailer, sends } of abandoned) {
    mailer.close();
    await Promise.allSettled(sends);
  }
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await stack.close();
  await sink.close();
});

async function campaignOf(emails: string[]): Promise<{ campaignId: string; ids: string[] }> {
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, recipients: emails.map((email) => ({ email })) },
  });
  const { id } = (await response.json()) as { id: string };
  const rows = await stack.deps.sql`select id from delegations where campaign_id = ${id}`;
  return { campaignId: id, ids: rows.map((r) => r.id as string) };
}

describe('a crash while many recipients are claimed', () => {
  it('records none of them sent on assumption when the server never got their messages', async () => {
    const emails = Array.from({ length: 10 }, (_, i) => `claimed-${i}@x.example`);
    const { campaignId, ids } = await campaignOf(emails);
    const config = { ...stack.config, smtpUrl: `smtp://127.0.0.1:${(silent.address() as net.AddressInfo).port}` };

    for (let crash = 1; crash <= 2; crash++) {
      // A process claims every recipient, its messages go nowhere, and it dies: its work
      // is abandoned where it stands, its leases run out.
      const mailer = createMailer(config);
      const deps = { db: stack.deps.db, config, mailer, logger: stack.deps.logger };
      const sends = ids.map((id) => sendOffer(deps, id, { isFinalAttempt: false }).catch(() => undefined));
      abandoned.push({ mailer, sends });
      await waitFor(async () => {
        const [row] = await stack.deps
          .sql`select count(*)::int as n from delegations where campaign_id = ${campaignId} and send_attempts = ${crash}`;
        return row?.n === ids.length;
      });
      await new Promise((r) => setTimeout(r, 1500)); // the lease (1 s) runs out
    }

    const mailer = createMailer(stack.config);
    try {
      const deps = { db: stack.deps.db, config: stack.config, mailer, logger: stack.deps.logger };
      await Promise.all(ids.map((id) => sendOffer(deps, id, { isFinalAttempt: false })));
    } finally {
      mailer.close();
    }

    const received = new Set(sink.messages.flatMap((m) => m.to));
    const assumed = await stack.deps.sql`
      select d.recipient_email from delegations d join delegation_events e on e.delegation_id = d.id
      where d.campaign_id = ${campaignId} and e.event = 'send_succeeded' and (e.detail->>'assumed')::boolean`;
    const assumedNeverReceived = assumed.map((r) => r.recipient_email as string).filter((e) => !received.has(e));
    // Only a message whose turn to end its data had come can be in doubt: at most
    // MAIL_UNCONFIRMED_MAX (1) per process, whether or not the server had it.
    expect(assumedNeverReceived.length).toBeLessThanOrEqual(1);
    expect(emails.filter((e) => !received.has(e) && !assumedNeverReceived.includes(e))).toEqual([]);
  });
});

/** Copies the SMTP server received, per recipient. */
function copies(emails: string[]): Map<string, number> {
  const counts = new Map(emails.map((e) => [e, 0]));
  for (const m of sink.messages) for (const to of m.to) if (counts.has(to)) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

describe('the bound on delivered-but-unrecorded messages (MAIL_UNCONFIRMED_MAX = 1)', () => {
  it('holds while PostgreSQL is away longer than the short retry of a record', async () => {
    const emails = Array.from({ length: 12 }, (_, i) => `pg-away-${i}@x.example`);
    const { ids } = await campaignOf(emails);
    proxy = await startFaultProxy(stack.config.databaseUrl);
    const sql = createSql(proxy.through(stack.config.databaseUrl), { max: 4 });
    const mailer = createMailer(stack.config);
    try {
      const deps = { db: createDb(sql), config: stack.config, mailer, logger: stack.deps.logger };
      const first = ids.map((id) => sendOffer(deps, id, { isFinalAttempt: false }).catch(() => undefined));
      // Every send claimed; the first message is on its way to the server.
      await waitFor(async () => {
        const [row] = await stack.deps.sql`select count(*)::int as n from delegations
          where id = any(${ids}) and send_attempts = 1`;
        return row?.n === ids.length && sink.receiving > 0;
      });
      // PostgreSQL restarting for 4 s: every query fails at once, the short retry gives up.
      proxy.set('pg-starting-up');
      await new Promise((r) => setTimeout(r, 4_000));
      proxy.set('pass');
      await Promise.all(first);
      // What a job's retries do: every recipient still waiting is sent, once its lease is over.
      await new Promise((r) => setTimeout(r, 1_500));
      for (const id of ids) {
        for (let attempt = 0; attempt < 10; attempt++) {
          try {
            await sendOffer(deps, id, { isFinalAttempt: false });
            break;
          } catch (error) {
            if (!(error instanceof RetryableSendError)) throw error;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      }
    } finally {
      mailer.close();
      await sql.end();
    }
    const counted = copies(emails);
    const duplicates = [...counted.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    expect([...counted.values()].every((n) => n >= 1)).toBe(true);
    expect(duplicates).toBeLessThanOrEqual(1);
  }, 60_000);

  it('holds when the connection drops after the data on every attempt: two copies, then assumed sent', async () => {
    const { ids } = await campaignOf(['drop-always@x.example']);
    const id = ids[0] as string;
    const mailer = createMailer(stack.config);
    try {
      const deps = { db: stack.deps.db, config: stack.config, mailer, logger: stack.deps.logger };
      // What the job's six attempts do (MAIL_ATTEMPTS = 6).
      for (let attempt = 1; attempt <= 6; attempt++) {
        try {
          const result = await sendOffer(deps, id, { isFinalAttempt: attempt === 6 });
          if (result.outcome !== 'sent') break;
        } catch (error) {
          if (!(error instanceof RetryableSendError)) throw error;
        }
      }
    } finally {
      mailer.close();
    }
    expect(copies(['drop-always@x.example']).get('drop-always@x.example')).toBeLessThanOrEqual(2);
    const [row] = await stack.deps.sql`select state, uncertain_sends from delegations where id = ${id}`;
    expect(row).toMatchObject({ state: 'offered', uncertain_sends: 2 });
  }, 60_000);
});

describe('group commit', () => {
  it('records outcomes and marks the next messages together, never more than K in doubt', async () => {
    const emails = Array.from({ length: 40 }, (_, i) => `grouped-${i}@x.example`);
    const { campaignId, ids } = await campaignOf(emails);
    const sql = createSql(stack.config.databaseUrl, { max: 4 });
    const db = createDb(sql);
    const config = { ...stack.config, mailUnconfirmedMax: 3, smtpPoolSize: 8 };
    const mailer = createMailer(config);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await stack.deps.sql`select count(*)::int as n from delegations
          where campaign_id = ${campaignId} and send_in_doubt`;
        peak = Math.max(peak, row?.n ?? 0);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const deps = { db, config, mailer, logger: stack.deps.logger };
      const results = await Promise.all(ids.map((id) => sendOffer(deps, id, { isFinalAttempt: false })));
      expect(results.every((r) => r.outcome === 'sent')).toBe(true);
    } finally {
      sampling = false;
      await sampler;
      mailer.close();
    }
    // 40 marks and 40 outcomes, fewer commits: a commit carries several of them.
    expect(commitGroupOf(db).commits).toBeLessThan(80);
    expect(peak).toBeLessThanOrEqual(3);
    const counted = copies(emails);
    expect([...counted.values()].every((n) => n === 1)).toBe(true);
    await sql.end();
  }, 60_000);
});

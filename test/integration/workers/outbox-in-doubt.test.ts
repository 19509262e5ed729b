import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableSendError } from '../../../core/smtp-outcome.ts';
import { createDb, createSql } from '../../../db/client.ts';
import { commitGroupOf } from '../../../lib/commit-group.ts';
import { createMailer, type Mailer } from '../../../lib/mailer.ts';
import { sendOffer } from '../../../services/campaigns/send-offer.ts';
import { recordEmails, sendEmail } from '../../../services/mail/outbox.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type FaultProxy, startFaultProxy } from '../../helpers/fault-proxy.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Notification emails (the outbox) carry the same "in doubt" mark as offers (docs/adr/0026):
 * only an email whose mark committed gets its end of data, only a marked email counts as an
 * interrupted send, and the marks and outcomes of a process share its one commit group with
 * the offers', so at most MAIL_UNCONFIRMED_MAX emails of either kind are in doubt at once.
 * The evidence is what the SMTP server received.
 */
let stack: TestStack;
let sink: SmtpSink;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
const abandoned: { mailer: Mailer; sends: Promise<unknown>[] }[] = [];
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  sink = await startSmtpSink({
    // Every attempt for these recipients: the data arrives, the connection drops unanswered.
    dataRule: (to) => (to.startsWith('drop-always') ? 'drop' : undefined),
    // A slow answer to the data, so that many messages are on their way at once.
    dataDelayMs: 100,
  });
  // Accepts connections and never says a word: no greeting, so no message can get through.
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  stack = await createTestStack({ env: { SMTP_URL: sink.url, LEASE_SECONDS: '1' } });
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

async function outboxOf(prefix: string, count: number): Promise<{ emails: string[]; ids: string[] }> {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}-${i}@x.example`);
  const ids = await recordEmails(
    stack.deps.db,
    'x.example',
    emails.map((to) => ({
      dedupeKey: `test.${to}`,
      kind: 'test',
      toEmail: to,
      content: { subject: 'Hi', text: 'x', html: 'x' },
    })),
  );
  return { emails, ids };
}

/** Copies the SMTP server received, per recipient. */
function copies(emails: string[]): Map<string, number> {
  const counts = new Map(emails.map((e) => [e, 0]));
  for (const m of sink.messages) for (const to of m.to) if (counts.has(to)) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

describe('a crash while many notifications are claimed', () => {
  for (const k of [1, 3]) {
    it(`fails none of them as interrupted when the server never got them (MAIL_UNCONFIRMED_MAX = ${k})`, async () => {
      const { emails, ids } = await outboxOf(`claimed-k${k}`, 10);
      const config = {
        ...stack.config,
        mailUnconfirmedMax: k,
        smtpUrl: `smtp://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      };
      for (let crash = 1; crash <= 2; crash++) {
        // A process claims every email, its messages go nowhere, and it dies: its work is
        // abandoned where it stands, its leases run out.
        const mailer = createMailer(config);
        const deps = { db: stack.deps.db, config, mailer, logger: stack.deps.logger };
        const sends = ids.map((id) => sendEmail(deps, id, { isFinalAttempt: false }).catch(() => undefined));
        abandoned.push({ mailer, sends });
        await waitFor(async () => {
          const [row] = await stack.deps.sql`
            select count(*)::int as n from emails where id = any(${ids}) and attempts = ${crash}`;
          return row?.n === ids.length;
        });
        await new Promise((r) => setTimeout(r, 1500)); // the lease (1 s) runs out
      }

      const mailer = createMailer(stack.config);
      try {
        const deps = { db: stack.deps.db, config: stack.config, mailer, logger: stack.deps.logger };
        await Promise.all(ids.map((id) => sendEmail(deps, id, { isFinalAttempt: false })));
      } finally {
        mailer.close();
      }

      const received = copies(emails);
      const given = await stack.deps.sql`select to_email from emails where id = any(${ids}) and state = 'failed'`;
      const givenUpNeverReceived = given.map((r) => r.to_email as string).filter((e) => received.get(e) === 0);
      // Only an email whose turn to end its data had come can be in doubt: at most K per
      // process, whether or not the server had it.
      expect(givenUpNeverReceived.length).toBeLessThanOrEqual(k);
      expect(emails.filter((e) => received.get(e) === 0 && !givenUpNeverReceived.includes(e))).toEqual([]);
    }, 30_000);
  }
});

describe('a notification whose connection drops after the data on every attempt', () => {
  it('is sent twice at most, then failed as interrupted', async () => {
    const [id] = await recordEmails(stack.deps.db, 'x.example', [
      {
        dedupeKey: 'test.drop-always',
        kind: 'test',
        toEmail: 'drop-always@x.example',
        content: { subject: 'Hi', text: 'x', html: 'x' },
      },
    ]);
    const mailer = createMailer(stack.config);
    const outcomes: string[] = [];
    try {
      const deps = { db: stack.deps.db, config: stack.config, mailer, logger: stack.deps.logger };
      // What the job's six attempts do.
      for (let attempt = 1; attempt <= 6; attempt++) {
        try {
          const result = await sendEmail(deps, id as string, { isFinalAttempt: attempt === 6 });
          outcomes.push(result.outcome);
          break;
        } catch (error) {
          if (!(error instanceof RetryableSendError)) throw error;
          outcomes.push('retry');
        }
      }
    } finally {
      mailer.close();
    }
    expect(copies(['drop-always@x.example']).get('drop-always@x.example')).toBeLessThanOrEqual(2);
    expect(outcomes).toEqual(['retry', 'retry', 'interrupted']);
    const [row] = await stack.deps
      .sql`select state, uncertain_sends, send_in_doubt from emails where id = ${id as string}`;
    expect(row).toMatchObject({ state: 'failed', uncertain_sends: 2, send_in_doubt: false });
  }, 30_000);
});

describe('the bound on delivered-but-unrecorded notifications (MAIL_UNCONFIRMED_MAX = 3)', () => {
  it('holds while PostgreSQL is away', async () => {
    const { emails, ids } = await outboxOf('pg-away', 15);
    proxy = await startFaultProxy(stack.config.databaseUrl);
    const sql = createSql(proxy.through(stack.config.databaseUrl), { max: 4 });
    const config = { ...stack.config, mailUnconfirmedMax: 3, smtpPoolSize: 5 };
    const mailer = createMailer(config);
    try {
      const deps = { db: createDb(sql), config, mailer, logger: stack.deps.logger };
      const first = ids.map((id) => sendEmail(deps, id, { isFinalAttempt: false }).catch(() => undefined));
      // Every send claimed; the first messages are on their way to the server.
      await waitFor(async () => {
        const [row] = await stack.deps
          .sql`select count(*)::int as n from emails where id = any(${ids}) and attempts = 1`;
        return row?.n === ids.length && sink.receiving > 0;
      });
      // PostgreSQL restarting for 4 s: every query fails at once.
      proxy.set('pg-starting-up');
      await new Promise((r) => setTimeout(r, 4_000));
      proxy.set('pass');
      await Promise.all(first);
      // What a job's retries do: every email still pending is sent, once its lease is over.
      await new Promise((r) => setTimeout(r, 1_500));
      for (const id of ids) {
        for (let attempt = 0; attempt < 10; attempt++) {
          try {
            await sendEmail(deps, id, { isFinalAttempt: false });
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
    expect(duplicates).toBeLessThanOrEqual(3);
    const [row] = await stack.deps.sql`select count(*)::int as n from emails where id = any(${ids}) and state = 'sent'`;
    expect(row?.n).toBe(ids.length);
  }, 60_000);
});

describe('one commit group for offers and notifications', () => {
  it('records outcomes and marks the next messages together, never more than K of either kind in doubt', async () => {
    const { token } = await createTestPartner(stack);
    const offerId = (await createTestOffer(stack, token)).id;
    const offerEmails = Array.from({ length: 20 }, (_, i) => `grouped-offer-${i}@x.example`);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId, recipients: offerEmails.map((email) => ({ email })) },
    });
    const { id: campaignId } = (await response.json()) as { id: string };
    const delegationIds = (await stack.deps.sql`select id from delegations where campaign_id = ${campaignId}`).map(
      (r) => r.id as string,
    );
    const notifications = await outboxOf('grouped-notice', 20);

    const sql = createSql(stack.config.databaseUrl, { max: 4 });
    const db = createDb(sql);
    const config = { ...stack.config, mailUnconfirmedMax: 3, smtpPoolSize: 8 };
    const mailer = createMailer(config);
    let peak = 0;
    let peakNotifications = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await stack.deps.sql`select
          (select count(*)::int from delegations where campaign_id = ${campaignId} and send_in_doubt) as offers,
          (select count(*)::int from emails where id = any(${notifications.ids}) and send_in_doubt) as notifications`;
        peak = Math.max(peak, (row?.offers ?? 0) + (row?.notifications ?? 0));
        peakNotifications = Math.max(peakNotifications, row?.notifications ?? 0);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const deps = { db, config, mailer, logger: stack.deps.logger };
      const results = await Promise.all([
        ...delegationIds.map((id) => sendOffer(deps, id, { isFinalAttempt: false })),
        ...notifications.ids.map((id) => sendEmail(deps, id, { isFinalAttempt: false })),
      ]);
      expect(results.every((r) => r.outcome === 'sent')).toBe(true);
    } finally {
      sampling = false;
      await sampler;
      mailer.close();
    }
    // 40 marks and 40 outcomes, of both kinds, in fewer commits of the one group.
    expect(commitGroupOf(db).commits).toBeLessThan(80);
    // Notifications were marked too (each is in doubt while the server takes 100 ms to
    // answer), and counted in the same bound as the offers.
    expect(peakNotifications).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
    const counted = copies([...offerEmails, ...notifications.emails]);
    expect([...counted.values()].every((n) => n === 1)).toBe(true);
    const [left] = await stack.deps.sql`select count(*)::int as n from emails
      where id = any(${notifications.ids}) and (state <> 'sent' or send_in_doubt or lease_until is not null)`;
    expect(left?.n).toBe(0);
    await sql.end();
  }, 60_000);
});

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createSql } from '../../../db/client.ts';
import { bounceAddress } from '../../../lib/bounce-address.ts';
import { metricsRegistry } from '../../../lib/metrics.ts';
import { BOUNCED_REASON } from '../../../services/campaigns/bounces.ts';
import { applyTransition, systemActor } from '../../../services/delegations/transitions.ts';
import { startBounceListener } from '../../../workers/bounce-listener.ts';
import { startWorkers } from '../../../workers/run.ts';
import { bounceReport, deliverBounce } from '../../helpers/bounce-report.ts';
import { signedInClient } from '../../helpers/dashboard.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { freePort } from '../../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

const domain = 'bounces.mandate.test';
let stack: TestStack;
let sink: SmtpSink;
let token: string;
let userId: string;
let offerId: string;
let port: number;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({
    env: {
      SMTP_URL: sink.url,
      MAIL_BOUNCE_DOMAIN: domain,
      BOUNCE_SMTP_PORT: String(await freePort()),
      BOUNCE_SMTP_HOST: '127.0.0.1',
      BOUNCE_MAX_BYTES: '65536',
    },
  });
  ({ token, userId } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token)).id;
  const workers = await stack.startWorkers();
  port = workers.bounceListener?.port as number;
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

/** Sends a campaign to `emails` and waits until every offer is out; its delegations by email. */
async function offered(emails: string[]): Promise<Map<string, string>> {
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, recipients: emails.map((email) => ({ email })) },
  });
  const { id } = (await response.json()) as { id: string };
  await waitFor(async () => {
    const [row] = await stack.deps.sql`select count(*)::int as n from delegations
      where campaign_id = ${id} and state = 'offered'`;
    return row?.n === emails.length;
  });
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${id}`;
  return new Map(rows.map((r) => [r.recipient_email as string, r.id as string]));
}

const returnPath = (delegationId: string, attempt = 1) =>
  bounceAddress(stack.config.linkSecret, domain, delegationId, attempt);
const delegation = async (id: string) => {
  const response = await stack.request(`/v1/delegations/${id}`, { token });
  return (await response.json()) as {
    state: string;
    smtpReply: string | null;
    failureReason: string | null;
    events: { event: string; fromState: string; toState: string; detail: Record<string, unknown> | null }[];
  };
};
const kept = async (id: string) =>
  stack.deps
    .sql`select kind, status, failed_delegation from delegation_bounces where delegation_id = ${id} order by id`;

async function bounceCount(outcome: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('mandate_bounces_total')?.get();
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('bounces that come back later', () => {
  it('sends each offer email with its own return path on the bounce domain', async () => {
    const ids = await offered(['verp@client.example']);
    const id = ids.get('verp@client.example') as string;
    const mail = sink.messages.find((m) => m.to.includes('verp@client.example'));
    expect(mail?.from).toBe(returnPath(id));
  });

  it('turns a permanent report (5.x.x) into failed with the diagnostic, after offered, once however often it comes', async () => {
    const ids = await offered(['gone@client.example']);
    const id = ids.get('gone@client.example') as string;
    const failedBefore = await bounceCount('failed');
    const duplicatesBefore = await bounceCount('duplicate');
    const raw = bounceReport({
      to: returnPath(id),
      recipient: 'gone@client.example',
      status: '5.1.1',
      messageId: '<once@relay.partner.test>',
    });
    expect(await deliverBounce(port, returnPath(id), raw)).toMatch(/^250/);
    expect(await deliverBounce(port, returnPath(id), raw)).toMatch(/^250/);

    const d = await delegation(id);
    expect(d.state).toBe('failed');
    expect(d.failureReason).toBe(BOUNCED_REASON);
    expect(d.smtpReply).toBe(
      '550 5.1.1 <gone@client.example>: Recipient address rejected: User unknown in virtual mailbox table',
    );
    expect(d.events.map((e) => e.event)).toEqual(['send_succeeded', 'bounced']);
    expect(d.events[1]).toMatchObject({ fromState: 'offered', toState: 'failed', detail: { status: '5.1.1' } });
    expect(await kept(id)).toEqual([{ kind: 'permanent', status: '5.1.1', failed_delegation: true }]);
    expect(await bounceCount('failed')).toBe(failedBefore + 1);
    expect(await bounceCount('duplicate')).toBe(duplicatesBefore + 1);

    // The dashboard shows it as it shows an SMTP refusal: the reply on the campaign's
    // recipients and the delegation's page, the event on its timeline.
    const owner = await signedInClient(stack, userId);
    const [row] = await stack.deps.sql`select campaign_id from delegations where id = ${id}`;
    const campaignPage = await owner.get(`/dashboard/campaigns/${row?.campaign_id}?state=failed`);
    expect(campaignPage.html).toContain('550 5.1.1 &lt;gone@client.example&gt;: Recipient address rejected');
    const delegationPage = await owner.get(`/dashboard/delegations/${id}`);
    expect(delegationPage.html).toContain('Offer email bounced');
    expect(delegationPage.html).toContain('User unknown in virtual mailbox table');
  });

  it('keeps a delay notice (4.x.x) and changes nothing', async () => {
    const ids = await offered(['slow@client.example']);
    const id = ids.get('slow@client.example') as string;
    const raw = bounceReport({
      to: returnPath(id),
      recipient: 'slow@client.example',
      status: '4.4.1',
      diagnostic: '421 4.4.1 Connection timed out',
    });
    expect(await deliverBounce(port, returnPath(id), raw)).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('offered');
    expect(await kept(id)).toEqual([{ kind: 'delayed', status: '4.4.1', failed_delegation: false }]);
  });

  it('keeps a permanent report that arrives after the client accepted, and the acceptance stands', async () => {
    const ids = await offered(['late@client.example']);
    const id = ids.get('late@client.example') as string;
    expect(
      await applyTransition(stack.deps.db, { delegationId: id, from: 'offered', event: 'accept', actor: systemActor }),
    ).toBe(true);
    const raw = bounceReport({ to: returnPath(id), recipient: 'late@client.example', status: '5.2.1' });
    expect(await deliverBounce(port, returnPath(id), raw)).toMatch(/^250/);
    const d = await delegation(id);
    expect(d.state).not.toBe('failed');
    expect(d.events.map((e) => e.event)).not.toContain('bounced');
    expect(await kept(id)).toEqual([{ kind: 'permanent', status: '5.2.1', failed_delegation: false }]);
  });

  it('after a retry, keeps a late report of the first send and fails the delegation only on a report of the resend', async () => {
    const ids = await offered(['retried@client.example']);
    const id = ids.get('retried@client.example') as string;
    const first = returnPath(id, 1);
    const report = (to: string) => bounceReport({ to, recipient: 'retried@client.example', status: '5.1.1' });
    expect(await deliverBounce(port, first, report(first))).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('failed');
    // retry_send, and the resend (attempt 2) is out again.
    const owner = await stack.deps.sql`select campaign_id from delegations where id = ${id}`;
    const retried = await stack.request(`/v1/campaigns/${owner[0]?.campaign_id}/retry-failed`, {
      method: 'POST',
      token,
      // A bounce is a permanent refusal: retried only when asked.
      json: { delegationIds: [id], includePermanent: true },
    });
    expect(retried.status).toBeLessThan(300);
    await waitFor(async () => (await delegation(id)).state === 'offered');
    const resent = sink.messages.filter((m) => m.to.includes('retried@client.example'));
    expect(resent.map((m) => m.from)).toEqual([first, returnPath(id, 2)]);

    // A late report of the first send, or that report replayed: kept, the delegation stays offered.
    expect(await deliverBounce(port, first, report(first))).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('offered');
    expect(await kept(id)).toHaveLength(2);

    const second = returnPath(id, 2);
    expect(await deliverBounce(port, second, report(second))).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('failed');
  });

  it('keeps, and fails nothing on, a report about another address or whose Action is not failed', async () => {
    const ids = await offered(['alias@client.example']);
    const id = ids.get('alias@client.example') as string;
    const to = returnPath(id);
    // The alias expanded to a mailbox that bounced; the offer reached the alias itself.
    const expansion = bounceReport({
      to,
      recipient: 'alias@client.example',
      finalRecipient: 'old-mailbox@forward.example',
      status: '5.1.1',
    });
    expect(await deliverBounce(port, to, expansion)).toMatch(/^250/);
    const relayed = bounceReport({ to, recipient: 'alias@client.example', status: '5.0.0', action: 'relayed' });
    expect(await deliverBounce(port, to, relayed)).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('offered');
    expect(await kept(id)).toEqual([
      { kind: 'permanent', status: '5.1.1', failed_delegation: false },
      { kind: 'permanent', status: '5.0.0', failed_delegation: false },
    ]);
    // The address written in another case still names it.
    const upper = bounceReport({ to, recipient: 'ALIAS@Client.Example', status: '5.1.1' });
    expect(await deliverBounce(port, to, upper)).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('failed');
  });

  it('keeps at most 20 reports per delegation, keyed on the SHA-256 of their Message-ID; a failure still counts past them', async () => {
    const ids = await offered(['noisy@client.example']);
    const id = ids.get('noisy@client.example') as string;
    const to = returnPath(id);
    const cappedBefore = await bounceCount('capped');
    for (let i = 0; i < 22; i++) {
      const raw = bounceReport({ to, recipient: 'noisy@client.example', status: '4.4.1', messageId: `<n${i}@x>` });
      expect(await deliverBounce(port, to, raw)).toMatch(/^250/);
    }
    expect(await kept(id)).toHaveLength(20);
    expect(await bounceCount('capped')).toBe(cappedBefore + 2);
    const keys = await stack.deps.sql`select report_key from delegation_bounces where delegation_id = ${id}`;
    expect(keys.every((k) => /^message-id:[0-9a-f]{64}$/.test(k.report_key as string))).toBe(true);
    const failure = bounceReport({ to, recipient: 'noisy@client.example', status: '5.1.1' });
    expect(await deliverBounce(port, to, failure)).toMatch(/^250/);
    expect((await delegation(id)).state).toBe('failed');
    expect(await kept(id)).toHaveLength(21);
    // Final, and at the cap: nothing more is stored.
    const late = bounceReport({ to, recipient: 'noisy@client.example', status: '5.1.1' });
    expect(await deliverBounce(port, to, late)).toMatch(/^250/);
    expect(await kept(id)).toHaveLength(21);
  });

  it('refuses forged and foreign addresses at RCPT TO, and counts them', async () => {
    const ids = await offered(['target@client.example']);
    const id = ids.get('target@client.example') as string;
    const forgedBefore = await bounceCount('forged');
    const foreignBefore = await bounceCount('foreign');
    const forged = `${id}.1-00000000000000000000@${domain}`;
    const raw = bounceReport({ to: forged, recipient: 'target@client.example', status: '5.1.1' });
    await expect(deliverBounce(port, forged, raw)).rejects.toMatchObject({ responseCode: 550 });
    await expect(deliverBounce(port, 'someone@elsewhere.example', raw)).rejects.toMatchObject({ responseCode: 550 });
    expect((await delegation(id)).state).toBe('offered');
    expect(await bounceCount('forged')).toBe(forgedBefore + 1);
    expect(await bounceCount('foreign')).toBe(foreignBefore + 1);
  });

  it('drops and counts mail that is no report, and refuses oversized mail (552)', async () => {
    const ids = await offered(['odd@client.example']);
    const id = ids.get('odd@client.example') as string;
    const unparseableBefore = await bounceCount('unparseable');
    const oversizedBefore = await bounceCount('oversized');
    const prose = `From: someone@example.org\r\nTo: ${returnPath(id)}\r\nSubject: hello\r\n\r\nNot a report: 5.1.1 failed.\r\n`;
    expect(await deliverBounce(port, returnPath(id), prose)).toMatch(/^250/);
    const big = bounceReport({ to: returnPath(id), recipient: 'odd@client.example', status: '5.1.1' }).replace(
      'be delivered',
      `${'x'.repeat(998)}\r\n`.repeat(80),
    );
    await expect(deliverBounce(port, returnPath(id), big)).rejects.toMatchObject({ responseCode: 552 });
    expect((await delegation(id)).state).toBe('offered');
    expect(await kept(id)).toEqual([]);
    expect(await bounceCount('unparseable')).toBe(unparseableBefore + 1);
    expect(await bounceCount('oversized')).toBe(oversizedBefore + 1);
  });
});

describe("the bounce listener's limits", () => {
  /** An SMTP client on raw sockets: sends `lines` one by one and collects every reply line. */
  async function talk(p: number, lines: string[]): Promise<{ replies: string[]; closed: boolean }> {
    const socket = net.connect(p, '127.0.0.1');
    const replies: string[] = [];
    let closed = false;
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString();
      const parts = buffered.split('\r\n');
      buffered = parts.pop() ?? '';
      replies.push(...parts);
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => {});
    await waitFor(async () => replies.length > 0 || closed);
    for (const line of lines) {
      if (closed) break;
      const before = replies.length;
      socket.write(`${line}\r\n`);
      await waitFor(async () => replies.length > before || closed);
    }
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    return { replies, closed };
  }

  it('takes one recipient per message, closes after 10 refused ones, and counts a sender other than <>', async () => {
    const ids = await offered(['limits@client.example']);
    const id = ids.get('limits@client.example') as string;
    const notNullBefore = await bounceCount('not_null_sender');
    const two = await talk(port, [
      'EHLO relay.test',
      'MAIL FROM:<someone@relay.test>',
      `RCPT TO:<${returnPath(id)}>`,
      `RCPT TO:<${returnPath(id)}x>`,
    ]);
    expect(two.replies.at(-1)).toMatch(/^452/);
    expect(await bounceCount('not_null_sender')).toBe(notNullBefore + 1);
    const guesses = Array.from({ length: 12 }, (_, i) => `RCPT TO:<guess${i}@${domain}>`);
    const guessing = await talk(port, ['EHLO relay.test', 'MAIL FROM:<>', ...guesses]);
    expect(guessing.replies.filter((r) => r.startsWith('550'))).toHaveLength(9);
    expect(guessing.replies.at(-1)).toMatch(/^421/);
    expect(guessing.closed).toBe(true);
  });

  it('takes at most 5 connections at once from one address, and ends a session past its time', async () => {
    const listener = await startBounceListener({
      db: stack.deps.db,
      logger: stack.deps.logger,
      config: { ...stack.config, bounceSmtpPort: await freePort(), bounceSmtpHost: '127.0.0.1' },
      maxSessionMs: 1500,
    });
    const sockets: net.Socket[] = [];
    try {
      const greetings: string[] = [];
      for (let i = 0; i < 6; i++) {
        const socket = net.connect(listener.port, '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => {});
        await new Promise<void>((resolve) => socket.once('data', (d) => resolve(void greetings.push(d.toString()))));
      }
      expect(greetings.slice(0, 5).every((g) => g.startsWith('220'))).toBe(true);
      expect(greetings[5]).toMatch(/^421/);
      // A sender that keeps talking, slowly, is closed at the session's limit all the same.
      const slow = sockets[0] as net.Socket;
      let closedAt = 0;
      slow.on('close', () => {
        closedAt = Date.now();
      });
      const started = Date.now();
      const drip = setInterval(() => slow.write('NOOP\r\n'), 200);
      await waitFor(async () => closedAt > 0);
      clearInterval(drip);
      expect(closedAt - started).toBeLessThan(5000);
      // Its slot is free again.
      const again = net.connect(listener.port, '127.0.0.1');
      sockets.push(again);
      const greeting = await new Promise<string>((resolve) => again.once('data', (d) => resolve(d.toString())));
      expect(greeting).toMatch(/^220/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await listener.close();
    }
  });
});

describe('a worker whose bounce port is taken', () => {
  it('runs its jobs without the listener, and says so', async () => {
    // `port` is the running listener's: a second worker process on the same machine.
    const second = await startWorkers(
      { ...stack.deps, config: { ...stack.config, bounceSmtpPort: port } },
      { queues: ['mail'], resume: false },
    );
    try {
      expect(second.bounceListener).toBeUndefined();
      expect(second.workers.length).toBeGreaterThan(0);
      expect(second.workers.every((w) => w.isRunning())).toBe(true);
    } finally {
      await second.close();
    }
  });
});

describe('the bounce listener without its database', () => {
  it('answers 451, so the sending server keeps the report and tries again', async () => {
    const ids = await offered(['later@client.example']);
    const id = ids.get('later@client.example') as string;
    // A pool pointed at a port nothing listens on: every statement fails.
    const sql = createSql(`postgres://postgres@127.0.0.1:${await freePort()}/none`, { max: 1 });
    const listener = await startBounceListener({
      db: createDb(sql),
      logger: stack.deps.logger,
      config: { ...stack.config, bounceSmtpPort: await freePort(), bounceSmtpHost: '127.0.0.1' },
    });
    try {
      const raw = bounceReport({ to: returnPath(id), recipient: 'later@client.example', status: '5.1.1' });
      await expect(deliverBounce(listener.port, returnPath(id), raw)).rejects.toMatchObject({ responseCode: 451 });
      expect((await delegation(id)).state).toBe('offered');
    } finally {
      await listener.close();
      await sql.end({ timeout: 1 });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommitGroup } from '../../../lib/commit-group.ts';
import { createMailer, type Mailer } from '../../../lib/mailer.ts';
import { registerWorkerProcess, type WorkerProcess } from '../../../lib/worker-process.ts';
import { markOffersInDoubt, recordOffersSent } from '../../../services/campaigns/offer-writes.ts';
import {
  type ChunkRun,
  ChunkWaits,
  type SendChunkDeps,
  sendNextChunk,
} from '../../../services/campaigns/send-chunk.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;
let mailer: Mailer;
let self: WorkerProcess;
let deps: SendChunkDeps;
let token: string;
let offerId: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url, SEND_RATE_PER_SECOND: '0', CAMPAIGN_CHUNK_SIZE: '200' } });
  mailer = createMailer(stack.config);
  self = await registerWorkerProcess(stack.deps.db, { staleSeconds: 15, logger: stack.deps.logger });
  deps = { ...stack.deps, mailer, processId: self.id };
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token)).id;
});
afterAll(async () => {
  await self.stop();
  mailer.close();
  await stack.close();
  await sink.close();
});

async function campaign(prefix: string, n: number): Promise<string> {
  const recipients = Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@chunks.example` }));
  const response = await stack.request('/v1/campaigns', { method: 'POST', token, json: { offerId, recipients } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/** Runs chunk tokens until none is left to send, as the workers would. */
async function drain(with_: SendChunkDeps = deps): Promise<ChunkRun[]> {
  const runs: ChunkRun[] = [];
  for (;;) {
    const run = await sendNextChunk(with_);
    if (!run) return runs;
    runs.push(run);
  }
}

const copiesTo = (prefix: string) => {
  const counts = new Map<string, number>();
  for (const m of sink.messages) {
    const to = m.to[0] ?? '';
    if (to.startsWith(prefix)) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
};

describe('the chunked send engine', () => {
  it('sends a 450-recipient campaign in three chunks, each email once, and finishes every chunk', async () => {
    const id = await campaign('all', 450);
    const runs = await drain();
    expect(runs.map((r) => [r.chunk, r.sent, r.done])).toEqual([
      [0, 200, true],
      [1, 200, true],
      [2, 50, true],
    ]);
    const copies = copiesTo('all');
    expect(copies.size).toBe(450);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    const [left] = await stack.deps.sql`
      select count(*)::int as n from send_chunks where campaign_id = ${id} and done_at is null`;
    expect(left?.n).toBe(0);
  });

  it('takes over at once the chunk of a process that stopped beating, not at the end of its lease', async () => {
    const id = await campaign('orphan', 10);
    // A process that claimed the chunk and its rows, one of them marked in doubt, and died:
    // its leases run for another hour, its heartbeat stopped a minute ago.
    await stack.deps
      .sql`insert into worker_processes (id, host, pid, beat_at) values ('gone', 'elsewhere', 1, now() - interval '1 minute')`;
    await stack.deps.sql`
      update send_chunks set lease_holder = 'gone', lease_until = now() + interval '1 hour' where campaign_id = ${id}`;
    await stack.deps.sql`
      update delegations set send_lease_holder = 'gone', send_lease_until = now() + interval '1 hour', send_attempts = 1
      where campaign_id = ${id}`;
    await stack.deps.sql`
      update delegations set send_in_doubt = true
      where id = (select min(id) from delegations where campaign_id = ${id})`;

    const runs = await drain();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.sent).toBe(10);
    expect(copiesTo('orphan').size).toBe(10);
    const rows = await stack.deps.sql`
      select uncertain_sends, send_interruptions, state from delegations where campaign_id = ${id} order by id`;
    // Only the row marked in doubt may have reached the server: it alone counts an uncertain send.
    expect(rows.map((r) => r.uncertain_sends)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(rows.every((r) => r.send_interruptions === 1 && r.state === 'offered')).toBe(true);
  });

  it('leaves alone the chunk of a process still beating, whatever its lease says', async () => {
    const id = await campaign('held', 3);
    await stack.deps.sql`insert into worker_processes (id, host, pid) values ('alive', 'elsewhere', 2)`;
    await stack.deps.sql`
      update send_chunks set lease_holder = 'alive', lease_until = now() - interval '1 second' where campaign_id = ${id}`;
    await stack.deps.sql`
      update delegations set send_lease_holder = 'alive', send_lease_until = now() + interval '1 hour' where campaign_id = ${id}`;
    // The chunk's lease lapsed, so it is taken; its rows are still leased by a live holder: none is sent.
    await expect(sendNextChunk(deps)).rejects.toBeInstanceOf(ChunkWaits);
    expect(copiesTo('held').size).toBe(0);
    await stack.deps.sql`update send_chunks set done_at = now() where campaign_id = ${id}`;
    await stack.deps.sql`delete from worker_processes where id = 'alive'`;
  });

  it('sends a recipient interrupted twice alone, after the others; one interrupted three times fails unsent', async () => {
    const id = await campaign('suspect', 5);
    const ids = (await stack.deps.sql`select id from delegations where campaign_id = ${id} order by id`).map(
      (r) => r.id as string,
    );
    await stack.deps.sql`update delegations set send_interruptions = 2 where id = ${ids[0] as string}`;
    await stack.deps.sql`update delegations set send_interruptions = 3 where id = ${ids[1] as string}`;
    await drain();

    const order = sink.messages.map((m) => m.to[0] ?? '').filter((to) => to.startsWith('suspect'));
    expect(order).toHaveLength(4);
    expect(order.at(-1)).toBe('suspect0@chunks.example');
    expect(order).not.toContain('suspect1@chunks.example');
    const [failed] = await stack.deps.sql`select state, failure_reason from delegations where id = ${ids[1] as string}`;
    expect(failed?.state).toBe('failed');
    expect(failed?.failure_reason).toMatch(/stopped before reaching the mail server 3 times/);
  });

  it('sends a recipient found in doubt first and alone, then the others: a bystander of a death goes through', async () => {
    const id = await campaign('doubted', 5);
    const ids = (await stack.deps.sql`select id from delegations where campaign_id = ${id} order by id`).map(
      (r) => r.id as string,
    );
    const last = ids.at(-1) as string;
    // As a worker killed between this recipient's end of data and its answer leaves it.
    await stack.deps.sql`
      update delegations set send_in_doubt = true, send_attempts = 1, send_interruptions = 0,
             send_lease_until = now() - interval '1 second', send_lease_holder = 'gone'
      where id = ${last}`;
    await drain();

    const order = sink.messages.map((m) => m.to[0] ?? '').filter((to) => to.startsWith('doubted'));
    const lastEmail = `doubted${ids.length - 1}@chunks.example`;
    const [row] = await stack.deps
      .sql`select recipient_email, state, uncertain_sends from delegations where id = ${last}`;
    expect(row?.recipient_email).toBe(lastEmail);
    expect(order).toHaveLength(5);
    expect(order[0]).toBe(lastEmail);
    // Sent, not assumed: one uncertain send is not two.
    expect(row?.state).toBe('offered');
    expect(row?.uncertain_sends).toBe(1);
  });

  it('paces a group by the shared send rate: 120 messages at 60/s take two seconds', async () => {
    await campaign('paced', 120);
    const paced = { ...deps, config: { ...deps.config, sendRatePerSecond: 60 } };
    await stack.deps.sql`delete from send_pace`;
    const started = Date.now();
    await drain(paced);
    const received = sink.messages.filter((m) => (m.to[0] ?? '').startsWith('paced'));
    expect(received).toHaveLength(120);
    // Two groups of 60: the second may start one second after the first; the pace row has
    // moved on by the two seconds the 120 messages are worth.
    expect(Math.max(...received.map((m) => m.receivedAt)) - started).toBeGreaterThanOrEqual(950);
    const [pace] = await stack.deps.sql`select (extract(epoch from next_at) * 1000)::float8 as at from send_pace`;
    expect(pace?.at).toBeGreaterThanOrEqual(started + 1900);
  });

  it('sends again, on retry, a recipient that failed on its last attempt or after three interruptions', async () => {
    const id = await campaign('retried', 2);
    // As after MAIL_ATTEMPTS temporary replies, and after a message that stopped the worker three times.
    await stack.deps.sql`
      update delegations set state = 'failed', send_attempts = 10, send_interruptions = 3,
        failure_reason = 'Gave up after 10 attempts; the last reply was temporary'
      where campaign_id = ${id}`;
    await stack.deps.sql`update send_chunks set done_at = now() where campaign_id = ${id}`;
    const response = await stack.request(`/v1/campaigns/${id}/retry-failed`, { method: 'POST', token, json: {} });
    expect(response.status).toBe(202);
    await drain();
    expect(copiesTo('retried').size).toBe(2);
    const rows = await stack.deps.sql`select state from delegations where campaign_id = ${id}`;
    expect(rows.map((r) => r.state)).toEqual(['offered', 'offered']);
  });

  it('a partner that sent much last week joins the turns now, not behind everything it sent', async () => {
    const other = await createTestPartner(stack, 'Busy last week');
    const otherOffer = await createTestOffer(stack, other.token);
    await stack.deps.sql`
      insert into partner_send_turns (partner_id, turn) values (${other.partnerId}, 10000000)
      on conflict (partner_id) do update set turn = 10000000`;
    const first = await campaign('turnsb', 600);
    const recipients = Array.from({ length: 600 }, (_, i) => ({ email: `turnsa${i}@chunks.example` }));
    const second = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: other.token,
      json: { offerId: otherOffer.id, recipients },
    });
    expect(second.status).toBe(202);
    const { id: secondId } = (await second.json()) as { id: string };
    const runs = await drain();
    const order = runs.map((r) => (r.campaignId === first ? 'B' : r.campaignId === secondId ? 'A' : '?'));
    // In turn, not all of one then all of the other.
    expect(order.slice(0, 4).sort()).toEqual(['A', 'A', 'B', 'B']);
  });

  it('takes back at once what this live process left leased when a run stopped on an error, counting no interruption', async () => {
    const id = await campaign('leftover', 5);
    // A run of this very process (still beating) that stopped after claiming: its chunk and
    // rows are leased for another hour in its name.
    await stack.deps.sql`
      update send_chunks set lease_holder = ${self.id}, lease_until = now() + interval '1 hour' where campaign_id = ${id}`;
    await stack.deps.sql`
      update delegations set send_lease_holder = ${self.id}, send_lease_until = now() + interval '1 hour', send_attempts = 1
      where campaign_id = ${id}`;
    const runs = await drain();
    expect(runs.map((r) => [r.sent, r.done])).toEqual([[5, true]]);
    expect(copiesTo('leftover').size).toBe(5);
    const rows = await stack.deps.sql`select send_interruptions, state from delegations where campaign_id = ${id}`;
    expect(rows.every((r) => r.send_interruptions === 0 && r.state === 'offered')).toBe(true);
  });

  it('a run stopped by a database error frees its chunk and claimed rows: another process sends them at once', async () => {
    const id = await campaign('dberror', 4);
    // The real database, with its third statement of the run failing (take, claim, then the
    // campaign's facts) as a dropped connection would.
    let statements = 0;
    const failing = new Proxy(stack.deps.db, {
      get(target, prop, receiver) {
        if (prop !== 'execute') return Reflect.get(target, prop, receiver);
        return (...args: Parameters<typeof target.execute>) => {
          statements++;
          if (statements === 3) return Promise.reject(new Error('connection terminated'));
          return target.execute(...args);
        };
      },
    });
    await expect(sendNextChunk({ ...deps, db: failing })).rejects.toThrow('connection terminated');
    expect(statements).toBeGreaterThan(3);
    const [chunk] = await stack.deps.sql`select lease_holder, done_at from send_chunks where campaign_id = ${id}`;
    expect(chunk).toMatchObject({ lease_holder: null, done_at: null });
    const [leased] = await stack.deps.sql`
      select count(*)::int as n from delegations where campaign_id = ${id} and send_lease_until is not null`;
    expect(leased?.n).toBe(0);

    const other = await registerWorkerProcess(stack.deps.db, { staleSeconds: 15, logger: stack.deps.logger });
    try {
      const runs = await drain({ ...deps, processId: other.id });
      expect(runs.map((r) => [r.sent, r.done])).toEqual([[4, true]]);
    } finally {
      await other.stop();
    }
    expect([...copiesTo('dberror').values()]).toEqual([1, 1, 1, 1]);
  });

  it('two runs of one process never take the same chunk: one sends it, the other waits', async () => {
    // Two tokens of one process start together (the queue's concurrency 2): the second's
    // take must not find the first's fresh lease a leftover of its own.
    for (let round = 0; round < 5; round++) {
      const prefix = `twice${round}-`;
      await campaign(prefix, 40);
      const runs = await Promise.allSettled([sendNextChunk(deps), sendNextChunk(deps)]);
      const took = runs.filter((r) => r.status === 'fulfilled' && r.value !== null);
      expect(took).toHaveLength(1);
      expect(runs.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof ChunkWaits)).toBe(true);
      const copies = copiesTo(prefix);
      expect(copies.size).toBe(40);
      expect([...copies.values()].every((n) => n === 1)).toBe(true);
    }
  });

  it('two attempts of one recipient in one commit: only the current attempt is reported written', async () => {
    const id = await campaign('attempts', 1);
    const [row] = await stack.deps.sql<{ id: string }[]>`
      update delegations set send_attempts = 2 where campaign_id = ${id} returning id`;
    const group = createCommitGroup(stack.deps.db);
    const delegationId = row?.id as string;
    const marks = await Promise.all([
      group.writeOf(markOffersInDoubt, { delegationId, attempt: 1 }),
      group.writeOf(markOffersInDoubt, { delegationId, attempt: 2 }),
    ]);
    expect(marks).toEqual([false, true]);
    const sent = await Promise.all([
      group.writeOf(recordOffersSent, { delegationId, attempt: 1, messageId: '<a@x>', reply: '250 old' }),
      group.writeOf(recordOffersSent, { delegationId, attempt: 2, messageId: '<b@x>', reply: '250 new' }),
    ]);
    expect(sent).toEqual([false, true]);
    expect(group.commits).toBe(2);
    const events = await stack.deps.sql`
      select detail->>'reply' as reply from delegation_events where delegation_id = ${delegationId}`;
    expect(events.map((e) => e.reply)).toEqual(['250 new']);
    await stack.deps.sql`update send_chunks set done_at = now() where campaign_id = ${id}`;
  });

  // Last: it starts the stack's workers, which take every chunk from then on.
  it('finishes a campaign created before chunks, beside its one-recipient jobs still queued', async () => {
    const id = await campaign('legacy', 30);
    // As the rows of a campaign recorded by the previous version: no chunk, no token hash.
    await stack.deps.sql`delete from send_chunks where campaign_id = ${id}`;
    await stack.deps.sql`update delegations set send_chunk = null, token_hash = null where campaign_id = ${id}`;
    await stack.deps.queues.queue('campaign-mail').obliterate({ force: true });
    const [first] = await stack.deps.sql`select id from delegations where campaign_id = ${id} order by id limit 1`;
    await stack.deps.queues.enqueue('send-offer', { delegationId: first?.id as string });

    await stack.startWorkers();
    await expect.poll(async () => copiesTo('legacy').size, { timeout: 30_000, interval: 200 }).toBe(30);
    await expect
      .poll(
        async () =>
          (
            await stack.deps
              .sql`select count(*)::int as n from delegations where campaign_id = ${id} and state = 'offered'`
          )[0]?.n,
        { timeout: 30_000 },
      )
      .toBe(30);
    expect([...copiesTo('legacy').values()].every((n) => n === 1)).toBe(true);
    const [hashes] = await stack.deps.sql`
      select count(*)::int as n from delegations where campaign_id = ${id} and token_hash is not null and send_chunk is not null`;
    // The legacy job's recipient may have been sent by its job (a hash, no chunk) or by a chunk.
    expect(hashes?.n).toBeGreaterThanOrEqual(29);
  });
});

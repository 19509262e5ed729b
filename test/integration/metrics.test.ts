import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsApp } from '../../api/metrics.ts';
import { type RunningServer, startServer } from '../../api/server.ts';
import { delegationStates } from '../../core/delegation-machine.ts';
import { queueNames } from '../../lib/queues/names.ts';
import { createTestOffer, createTestPartner, readProblem, waitFor } from '../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition into samples; throws on any line it cannot read. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const [, name, body = '', raw] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
    let consumed = 0;
    for (let m = label.exec(body); m; m = label.exec(body)) {
      labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed = label.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`unreadable labels: ${line}`);
    // Go's ParseFloat, as Prometheus reads values: NaN in any case (prom-client writes `Nan`).
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : /^nan$/i.test(raw) ? NaN : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`unreadable value: ${line}`);
    samples.push({ name: name as string, labels, value });
  }
  return samples;
}

/** The series of `name` whose labels are exactly `labels`, or undefined. */
function series(samples: Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  const matches = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length > 1) throw new Error(`several series for ${name} ${JSON.stringify(labels)}`);
  return matches[0];
}

/** A series' value, 0 when absent (a counter not incremented yet in this process). */
const sampleValue = (samples: Sample[], name: string, labels: Record<string, string>) =>
  series(samples, name, labels)?.value ?? 0;

/** Delegations by state, all eight, as the database counts them. */
async function delegationsInDb(): Promise<Record<string, number>> {
  const rows = await stack.deps.sql<{ state: string; n: number }[]>`
    select state, count(*)::int as n from delegations group by state`;
  const counts: Record<string, number> = Object.fromEntries(delegationStates.map((s) => [s, 0]));
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

let sink: SmtpSink;
let stack: TestStack;
let token: string;
let offerId: string;

async function scrape(target: TestStack = stack): Promise<Sample[]> {
  const response = await target.request('/metrics', { token: METRICS_TOKEN });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

beforeAll(async () => {
  sink = await startSmtpSink({
    rule: (address) => (address.startsWith('refused') ? { code: 550, message: '5.1.1 Mailbox unknown' } : undefined),
  });
  stack = await createTestStack({
    workers: true,
    env: { SMTP_URL: sink.url, METRICS_TOKEN, MAIL_ATTEMPTS: '3', MAIL_BACKOFF_MS: '100' },
  });
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token, { access: 'limited', durationDays: 365 })).id;
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

describe('GET /metrics', () => {
  it('reports a campaign: jobs, their durations, queue depth, emails by outcome, delegations, HTTP requests', async () => {
    const before = await scrape();
    const recipients = ['a', 'b', 'c', 'd'].map((n) => ({ email: `${n}@client.example` }));
    recipients.push({ email: 'refused@client.example' });
    const response = await stack.request('/v1/campaigns', { method: 'POST', token, json: { offerId, recipients } });
    expect(response.status).toBe(202);

    const delta = (after: Sample[], name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    // Job metrics are recorded after the handler returns, and BullMQ moves the job to
    // completed after that: wait on both rather than on the rows.
    const after = await waitFor(async () => {
      const now = await scrape();
      const completed = delta(now, 'mandate_jobs_completed_total', { queue: 'campaign-mail', name: 'send-chunk' });
      const inQueue = sampleValue(now, 'mandate_queue_jobs', { queue: 'campaign-mail', state: 'completed' });
      return completed >= 1 && inQueue >= 1 ? now : undefined;
    }, 20_000);

    // One chunk, one token: its five recipients, four sent and one refused, in one job.
    expect(sink.messages).toHaveLength(4);
    expect(delta(after, 'mandate_jobs_completed_total', { queue: 'campaign-mail', name: 'send-chunk' })).toBe(1);
    expect(
      delta(after, 'mandate_jobs_failed_total', { queue: 'campaign-mail', name: 'send-chunk', final: 'true' }),
    ).toBe(0);

    // Every attempt is timed, and its buckets add up to its count.
    const durations = { queue: 'campaign-mail', name: 'send-chunk', outcome: 'completed' };
    expect(delta(after, 'mandate_job_duration_seconds_count', durations)).toBe(1);
    expect(sampleValue(after, 'mandate_job_duration_seconds_bucket', { ...durations, le: '+Inf' })).toBe(
      sampleValue(after, 'mandate_job_duration_seconds_count', durations),
    );
    expect(sampleValue(after, 'mandate_job_duration_seconds_sum', durations)).toBeGreaterThan(0);

    expect(delta(after, 'mandate_emails_total', { kind: 'offer', outcome: 'sent' })).toBe(4);
    expect(delta(after, 'mandate_emails_total', { kind: 'offer', outcome: 'rejected' })).toBe(1);
    expect(delta(after, 'mandate_emails_total', { kind: 'offer', outcome: 'deferred' })).toBe(0);
    expect(delta(after, 'mandate_emails_total', { kind: 'offer', outcome: 'failed' })).toBe(0);

    // Queue depth: every queue, every state; the mail queue holds its finished jobs.
    for (const queue of queueNames) {
      for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed']) {
        expect(series(after, 'mandate_queue_jobs', { queue, state }), `${queue} ${state}`).toBeDefined();
      }
    }
    const mailCounts = await stack.deps.queues.queue('campaign-mail').getJobCounts('completed', 'failed');
    expect(sampleValue(after, 'mandate_queue_jobs', { queue: 'campaign-mail', state: 'completed' })).toBe(
      mailCounts.completed,
    );
    expect(sampleValue(after, 'mandate_queue_jobs', { queue: 'campaign-mail', state: 'failed' })).toBe(
      mailCounts.failed,
    );
    expect(mailCounts.completed).toBeGreaterThanOrEqual(1);

    // Delegations by state: all eight, equal to the database's counts.
    const inDb = await delegationsInDb();
    expect(inDb.offered).toBe(4);
    expect(inDb.failed).toBe(1);
    const reported = Object.fromEntries(
      delegationStates.map((state) => [state, series(after, 'mandate_delegations', { state })?.value]),
    );
    expect(reported).toEqual(inDb);

    expect(
      delta(after, 'mandate_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/campaigns',
        status: '202',
      }),
    ).toBe(1);
    expect(sampleValue(after, 'mandate_scrape_error', { source: 'redis' })).toBe(0);
    expect(sampleValue(after, 'mandate_scrape_error', { source: 'postgres' })).toBe(0);
    // The process metrics come along.
    expect(series(after, 'process_cpu_user_seconds_total', {})).toBeDefined();
  });

  it('answers 401 without the token, or with a wrong one', async () => {
    for (const init of [{}, { token: 'not-the-metrics-token-0000000000' }, { token: METRICS_TOKEN.slice(0, -1) }]) {
      const response = await stack.request('/metrics', init);
      expect(response.status).toBe(401);
      expect((await readProblem(response)).code).toBe('UNAUTHENTICATED');
    }
    // A partner API token is not the metrics token.
    const response = await stack.request('/metrics', { token });
    expect(response.status).toBe(401);
  });

  it('still answers when Redis is down, without the queue gauges and with the error flagged', async () => {
    const offline = await createTestStack({
      database: stack.database,
      env: { REDIS_URL: 'redis://127.0.0.1:1', METRICS_TOKEN },
    });
    try {
      const samples = await scrape(offline);
      expect(samples.filter((s) => s.name === 'mandate_queue_jobs')).toEqual([]);
      expect(sampleValue(samples, 'mandate_scrape_error', { source: 'redis' })).toBe(1);
      expect(sampleValue(samples, 'mandate_scrape_error', { source: 'postgres' })).toBe(0);
      expect(sampleValue(samples, 'mandate_delegations', { state: 'offered' })).toBe((await delegationsInDb()).offered);
    } finally {
      await offline.close();
    }
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let open: TestStack;
  let server: RunningServer;

  beforeAll(async () => {
    open = await createTestStack({ database: stack.database });
    // What `npm run worker` serves on METRICS_PORT, on a real socket.
    server = await startServer(createMetricsApp(open.deps), { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await open.close();
  });

  it('answers loopback clients', async () => {
    const response = await open.request('/metrics', { ip: '127.0.0.1' });
    expect(response.status).toBe(200);
    const samples = parseExposition(await response.text());
    expect(series(samples, 'mandate_delegations', { state: 'invited' })?.value).toBe((await delegationsInDb()).invited);
    expect((await open.request('/metrics', { ip: '::1' })).status).toBe(200);
    expect((await open.request('/metrics', { ip: '::ffff:127.0.0.1' })).status).toBe(200);
  });

  it('answers 403 to anyone else, to requests through a proxy and to requests without a connection', async () => {
    const cases: Response[] = [
      await open.request('/metrics', { ip: '203.0.113.7' }),
      await open.request('/metrics', { ip: '::ffff:10.0.0.1' }),
      await open.request('/metrics', { ip: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } }),
      await open.app.request('/metrics'),
    ];
    for (const response of cases) {
      expect(response.status).toBe(403);
      expect((await readProblem(response)).code).toBe('NOT_AUTHORIZED');
    }
  });

  it('is served alone on a port of its own (a worker with METRICS_PORT)', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    const samples = parseExposition(await response.text());
    expect(series(samples, 'mandate_queue_jobs', { queue: 'mail', state: 'waiting' })).toBeDefined();
    expect(series(samples, 'mandate_delegations', { state: 'failed' })?.value).toBe((await delegationsInDb()).failed);

    const proxied = await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(proxied.status).toBe(403);
    expect((await readProblem(proxied)).code).toBe('NOT_AUTHORIZED');
    const elsewhere = await fetch(`${url}/v1/campaigns`);
    expect(elsewhere.status).toBe(404);
    expect((await readProblem(elsewhere)).code).toBe('NOT_FOUND');
  });
});

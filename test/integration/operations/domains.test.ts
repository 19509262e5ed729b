import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { type DnsTestServer, startDnsServer } from '../../helpers/dns-server.ts';
import { readProblem, waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Domain verification against a real DNS server on loopback, whose answers change with
 * the number of queries: a record present at once, one that appears on the third
 * lookup, and one that never does.
 */
let stack: TestStack;
let dns: DnsTestServer;
const tokens = new Map<string, string>();
const record = (name: string) => `mandate-verification=${tokens.get(name)}`;
/** What the app and its workers log at info level, as JSON lines. */
let logged = '';

beforeAll(async () => {
  dns = await startDnsServer({
    'at-once.example.com': () => [record('at-once.example.com'), 'v=spf1 -all'],
    'third-time.example.com': (n) => (n >= 3 ? [record('third-time.example.com')] : ['google-site-verification=xyz']),
    'never.example.com': () => ['MS=ms12345678'],
    'stubborn.example.com': () => ['MS=ms87654321'],
    'covered.example.com': () => [record('covered.example.com')],
    'lookup-fails.example.com': () => 'servfail',
  });
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  stack = await createTestStack({
    env: { DNS_SERVERS: dns.address, DOMAIN_VERIFY_RETRY_MS: '50', DOMAIN_VERIFY_DEADLINE_SECONDS: '3' },
    workers: true,
    logger: createLogger({ logLevel: 'info', logPretty: false }, capture),
  });
});
afterAll(async () => {
  await stack.close();
  await dns.close();
});

async function setup() {
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId } = await activateDelegation(stack, fixture);
  return { delegationId, token: fixture.partner.token };
}

async function finished(token: string, operationId: string) {
  return waitFor(async () => {
    const op = (await (await stack.request(`/v1/operations/${operationId}`, { token })).json()) as {
      state: string;
      error?: string;
      attempts: number;
      result?: Record<string, unknown>;
    };
    return ['succeeded', 'failed', 'rejected'].includes(op.state) ? op : undefined;
  });
}

async function addAndVerify(delegationId: string, token: string, name: string) {
  const added = await stack.request(`/v1/delegations/${delegationId}/domains`, {
    method: 'POST',
    token,
    json: { name },
  });
  expect(added.status).toBe(202);
  const body = (await added.json()) as {
    operationId: string;
    verification: { type: string; name: string; value: string };
  };
  expect(body.verification).toMatchObject({ type: 'TXT', name });
  tokens.set(name, body.verification.value.replace('mandate-verification=', ''));
  expect((await finished(token, body.operationId)).state).toBe('succeeded');
  const verify = await stack.request(`/v1/delegations/${delegationId}/domains/${name}/verify`, {
    method: 'POST',
    token,
  });
  expect(verify.status).toBe(202);
  return finished(token, ((await verify.json()) as { operationId: string }).operationId);
}

describe('domain verification', () => {
  it('verifies at once when the record is there', async () => {
    const { delegationId, token } = await setup();
    const op = await addAndVerify(delegationId, token, 'at-once.example.com');
    expect(op).toMatchObject({ state: 'succeeded', attempts: 1 });
    const domains = (await (await stack.request(`/v1/delegations/${delegationId}/domains`, { token })).json()) as {
      items: { name: string; state: string }[];
    };
    expect(domains.items).toEqual([expect.objectContaining({ name: 'at-once.example.com', state: 'verified' })]);
  });

  it('keeps looking while DNS propagates, and verifies on the third lookup', async () => {
    const { delegationId, token } = await setup();
    const op = await addAndVerify(delegationId, token, 'third-time.example.com');
    expect(op.state).toBe('succeeded');
    expect(op.attempts).toBe(3);
    expect(dns.queries.get('third-time.example.com')).toBe(3);
  });

  it('fails after the deadline, saying what it found instead', async () => {
    const { delegationId, token } = await setup();
    const op = await addAndVerify(delegationId, token, 'never.example.com');
    expect(op.state).toBe('failed');
    expect(op.error).toContain('found: MS=ms12345678');
    expect(op.attempts).toBeGreaterThan(1);
    const [row] = await stack.deps.sql`select state, last_found from domains where name = 'never.example.com'`;
    expect(row).toEqual({ state: 'pending', last_found: 'MS=ms12345678' });
    // The deadline in force when it was asked for is the operation's own.
    const [asked] = await stack.deps.sql`
      select input from operations where kind = 'verify_domain' and input->>'name' = 'never.example.com'`;
    expect(asked?.input).toMatchObject({ name: 'never.example.com', deadlineSeconds: 3 });
    // A record not there yet is what DNS propagation looks like: each look is logged as a
    // wait, at info level, without an error or a stack; only the deadline is a failure.
    const lines = logged
      .split('\n')
      .filter((line) => line.includes('never.example.com'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string; err?: unknown });
    const waits = lines.filter((line) => line.reason?.includes('not found at never.example.com yet'));
    expect(waits.length).toBe(op.attempts - 1);
    for (const line of waits) expect(line).toMatchObject({ level: 30, msg: 'operation waits; will check again' });
    expect(lines.filter((line) => line.err !== undefined)).toEqual([]);
    expect(lines.filter((line) => line.level >= 40)).toEqual([
      expect.objectContaining({ msg: 'job failed for good', reason: expect.stringMatching(/before the deadline/) }),
    ]);
  });

  it('a failure of our own DNS lookup is said to be ours, never shown as found at the domain', async () => {
    const { delegationId, token } = await setup();
    const op = await addAndVerify(delegationId, token, 'lookup-fails.example.com');
    expect(op.state).toBe('failed');
    expect(op.error).toContain('found: nothing yet: our DNS lookup failed (ESERVFAIL');
    expect(op.error).toContain('not an answer from lookup-fails.example.com');
    const [row] = await stack.deps.sql`select last_found from domains where name = 'lookup-fails.example.com'`;
    expect(row?.last_found).toMatch(/^nothing yet: our DNS lookup failed/);
  });

  it("the trail reads in progress with the last check's reason while it retries, then failed — never done", async () => {
    const { delegationId, token } = await setup();
    const added = await stack.request(`/v1/delegations/${delegationId}/domains`, {
      method: 'POST',
      token,
      json: { name: 'stubborn.example.com' },
    });
    expect((await finished(token, ((await added.json()) as { operationId: string }).operationId)).state).toBe(
      'succeeded',
    );
    const verify = await stack.request(`/v1/delegations/${delegationId}/domains/stubborn.example.com/verify`, {
      method: 'POST',
      token,
    });
    const { operationId } = (await verify.json()) as { operationId: string };
    type Row = { targetId: string; label: string; outcome: string; reason: string | null; about: string | null };
    const trailRow = async () => {
      const page = (await (await stack.request('/v1/audit?action=operation.verify_domain', { token })).json()) as {
        items: Row[];
      };
      return page.items.filter((e) => e.targetId === operationId);
    };
    const retrying = await waitFor(async () => {
      const rows = await trailRow();
      return rows[0]?.reason ? rows : undefined;
    });
    expect(retrying).toEqual([
      expect.objectContaining({
        label: 'Verify a domain',
        about: 'stubborn.example.com',
        outcome: 'pending',
        reason: expect.stringMatching(/MS=ms87654321; looking again in a few seconds$/),
      }),
    ]);
    expect((await finished(token, operationId)).state).toBe('failed');
    expect(await trailRow()).toEqual([
      expect.objectContaining({ outcome: 'failed', reason: expect.stringContaining('MS=ms87654321') }),
    ]);
  });

  it('a subdomain of a verified domain is verified at once, without DNS', async () => {
    const { delegationId, token } = await setup();
    await addAndVerify(delegationId, token, 'covered.example.com');
    const added = await stack.request(`/v1/delegations/${delegationId}/domains`, {
      method: 'POST',
      token,
      json: { name: 'Mail.Covered.Example.com' },
    });
    const { operationId } = (await added.json()) as { operationId: string };
    const op = await finished(token, operationId);
    expect(op.result).toMatchObject({
      name: 'mail.covered.example.com',
      state: 'verified',
      coveredBy: 'covered.example.com',
    });
    expect(dns.queries.get('mail.covered.example.com')).toBeUndefined();
  });

  it('a domain another organization verified cannot be verified again', async () => {
    const first = await setup();
    await addAndVerify(first.delegationId, first.token, 'at-once.example.com');
    const second = await setup();
    const op = await addAndVerify(second.delegationId, second.token, 'at-once.example.com');
    expect(op.state).toBe('failed');
    expect(op.error).toContain('verified by another organization');
  });

  it("refuses Mandate's own initial domains", async () => {
    const { delegationId, token } = await setup();
    const response = await stack.request(`/v1/delegations/${delegationId}/domains`, {
      method: 'POST',
      token,
      json: { name: 'x.clients.mandate.localhost' },
    });
    expect(response.status).toBe(422);
  });

  it.each([
    ['an IP address', '192.0.2.10'],
    ['a public suffix', 'co.uk'],
    ['a single label', 'intranet'],
    ['spaces', 'exa mple.com'],
  ])('refuses %s with 422', async (_label, name) => {
    const { delegationId, token } = await setup();
    const response = await stack.request(`/v1/delegations/${delegationId}/domains`, {
      method: 'POST',
      token,
      json: { name },
    });
    expect(response.status).toBe(422);
    expect((await readProblem(response)).errors?.[0]?.path).toBe('name');
  });

  it('stores an internationalized name in punycode', async () => {
    const { delegationId, token } = await setup();
    const response = await stack.request(`/v1/delegations/${delegationId}/domains`, {
      method: 'POST',
      token,
      json: { name: 'Bücher.example.com' },
    });
    expect(((await response.json()) as { verification: { name: string } }).verification.name).toBe(
      'xn--bcher-kva.example.com',
    );
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Nothing an outsider sends tells them which addresses have an account: sign-in, sign-up
 * (the start of an address confirmation) and staff creation answer an address with an
 * account as they answer one without — same status, same body — and in similar time.
 *
 * Times are compared, never asserted absolutely: 50 tries of each kind, the two kinds
 * taking turns (which goes first alternates), the medians' ratio under 1.2. Each try
 * comes from an address of its own, so no per-address limit interferes.
 */
let stack: TestStack;
/** Addresses that have accounts: client admins and partner owners. */
let known: string[];

beforeAll(async () => {
  stack = await createTestStack();
  const admins = await Promise.all([1, 2, 3].map(() => createClientAdmin(stack)));
  const owners = await Promise.all([1, 2].map(() => createTestPartner(stack)));
  known = [...admins.map((a) => a.email), ...owners.map((o) => o.email)];
});
afterAll(() => stack.close());

const TRIES = 50;
const tag = () => randomBytes(4).toString('hex');
let hosts = 0;
/** A client address no other try in this file uses. */
const nextIp = () => {
  hosts++;
  return `10.77.${hosts >> 8}.${hosts & 255}`;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * Runs `TRIES` tries of each kind, taking turns, after a few unmeasured ones (the first
 * requests of a process pay for JIT and connections). Returns every answer and the ratio
 * of the medians (the larger over the smaller).
 */
async function compare(
  tryKnown: (i: number) => Promise<Answer>,
  tryUnknown: (i: number) => Promise<Answer>,
): Promise<{ known: Answer[]; unknown: Answer[]; ratio: number; medians: [number, number] }> {
  for (let i = 0; i < 3; i++) {
    await tryKnown(TRIES + i);
    await tryUnknown(TRIES + i);
  }
  const answers = { known: [] as Answer[], unknown: [] as Answer[] };
  const times = { known: [] as number[], unknown: [] as number[] };
  const timed = async (kind: 'known' | 'unknown', i: number) => {
    const started = performance.now();
    const answer = await (kind === 'known' ? tryKnown(i) : tryUnknown(i));
    times[kind].push(performance.now() - started);
    answers[kind].push(answer);
  };
  for (let i = 0; i < TRIES; i++) {
    const order = i % 2 === 0 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
    for (const kind of order) await timed(kind, i);
  }
  const medians: [number, number] = [median(times.known), median(times.unknown)];
  return { ...answers, ratio: Math.max(...medians) / Math.min(...medians), medians };
}

/**
 * The page or problem without what differs by design: the address typed, each browser's
 * own CSRF token, the request id.
 */
const normalized = (body: string) =>
  body
    .replace(/[\w.+-]+@[\w.-]+/g, 'ADDRESS')
    .replace(/name="csrf" value="[A-Za-z0-9_-]{43}"/g, 'name="csrf" value="…"')
    .replace(/"requestId":"[^"]*"/g, '"requestId":"…"');

function expectAlike(answers: Answer[], status: number) {
  expect(new Set(answers.map((a) => a.status))).toEqual(new Set([status]));
  expect(new Set(answers.map((a) => normalized(a.body))).size).toBe(1);
}

describe('nothing tells an outsider which addresses have an account', () => {
  it('sign-in: a wrong password and an unknown address get the same answer in similar time', async () => {
    const unknown = Array.from({ length: known.length }, () => `nobody-${tag()}@client.example`);
    const attempt = async (email: string): Promise<Answer> => {
      const browser = new PageClient(stack, nextIp());
      await browser.get('/sign-in');
      const answer = await browser.post('/sign-in', { email, password: 'not the password at all', next: '/' });
      return { status: answer.status, body: answer.html };
    };
    // Ten tries per address: under the account-wide limit, which counts unknown addresses alike.
    const result = await compare(
      (i) => attempt(known[i % known.length] as string),
      (i) => attempt(unknown[i % unknown.length] as string),
    );
    expectAlike([...result.known, ...result.unknown], 401);
    expect(result.ratio, `medians ${result.medians.join(' / ')} ms`).toBeLessThan(1.2);
  });

  it('sign-up: an address with an account and a new one get the same answer in similar time', async () => {
    const fixture = await createOfferFixture(stack);
    const path = `/offers/${fixture.reusableToken}/create-org`;
    const attempt = async (email: string): Promise<Answer> => {
      const browser = new PageClient(stack, nextIp());
      await browser.get(`/offers/${fixture.reusableToken}`);
      const answer = await browser.post(path, {
        orgName: 'Probe Inc',
        adminName: 'Probe',
        email,
        password: 'correct horse battery staple',
      });
      return { status: answer.status, body: answer.html };
    };
    const result = await compare(
      (i) => attempt(known[i % known.length] as string),
      () => attempt(`new-${tag()}@client.example`),
    );
    expectAlike([...result.known, ...result.unknown], 200);
    expect(result.known[0]?.body).toContain('Check your email');
    expect(result.ratio, `medians ${result.medians.join(' / ')} ms`).toBeLessThan(1.2);
    // Each address with an account was told by email instead (at most once an hour).
    const notices = await stack.deps.sql`
      select distinct lower(to_email) as to from emails where kind = 'signup-exists'`;
    expect(notices.map((n) => n.to).sort()).toEqual([...known].map((e) => e.toLowerCase()).sort());
  });

  it('staff creation: an address with an account elsewhere and a free one get the same answer in similar time', async () => {
    // Several partners take turns, so the per-partner limit on invitations stays out of the way.
    const partners = await Promise.all([1, 2, 3, 4].map(() => createTestPartner(stack)));
    const attempt = async (email: string, i: number): Promise<Answer> => {
      const partner = partners[i % partners.length] as (typeof partners)[number];
      const answer = await stack.request('/v1/staff', {
        method: 'POST',
        token: partner.token,
        json: { email, displayName: 'Probe', access: 'none' },
      });
      return { status: answer.status, body: await answer.text() };
    };
    // As many free addresses as known ones, each invited as often: an invitation that
    // replaces a pending one does a little more, on both sides alike.
    const free = Array.from({ length: known.length }, () => `new-staff-${tag()}@partner.example`);
    const result = await compare(
      (i) => attempt(known[i % known.length] as string, i),
      (i) => attempt(free[i % free.length] as string, i),
    );
    // An invitation is sent either way; the address with an account is told by email instead.
    expectAlike([...result.known, ...result.unknown], 202);
    expect(result.known[0]?.body).not.toMatch(/exist|account|already/i);
    expect(result.ratio, `medians ${result.medians.join(' / ')} ms`).toBeLessThan(1.2);

    // The partner's own staff is another matter: the owner sees them listed anyway.
    const own = partners[0] as (typeof partners)[number];
    const mine = await stack.request('/v1/staff', {
      method: 'POST',
      token: own.token,
      json: { email: own.email, displayName: 'Probe', access: 'none' },
    });
    expect(mine.status).toBe(409);
    expect(((await mine.json()) as { code: string }).code).toBe('CONFLICT');
  });
});

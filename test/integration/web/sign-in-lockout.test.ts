import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitRules } from '../../../lib/rate-limits.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { enrolTotp, totpCode } from '../../helpers/two-factor.ts';

/**
 * Lockouts that protect instead of deny: a stranger's guesses, spread over addresses,
 * slow down those addresses, while the account's owner signs in from elsewhere. Each
 * test sends its requests "from" addresses of its own (the socket address the in-process
 * request carries), so the per-address limits of one test never touch another's.
 */
let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

const lockoutMails = (to: string) =>
  sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && /^Too many wrong passwords/.test(m.subject ?? ''));

/** A browser at `ip` that has loaded the sign-in page (and so holds a CSRF cookie). */
async function browserAt(ip: string): Promise<PageClient> {
  const browser = new PageClient(stack, ip);
  await browser.get('/sign-in');
  return browser;
}

/**
 * Four addresses, taking turns, each trying `rounds` wrong passwords for `email`.
 * Returns every answer's status, in order.
 */
async function attack(email: string, net: string, rounds = 50): Promise<number[]> {
  const attackers = await Promise.all([1, 2, 3, 4].map((host) => browserAt(`${net}.${host}`)));
  const statuses: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const attacker of attackers) {
      statuses.push((await attacker.post('/sign-in', { email, password: `guess-${round}`, next: '/' })).status);
    }
  }
  return statuses;
}

async function signInAudit(userId: string) {
  return stack.deps.sql`
    select action, outcome, org_id, partner_id, actor_user_id, detail
    from audit_events where target_id = ${userId} and action like 'sign_in.%' order by id`;
}

/** Waits for the outbox to have sent what it will, then a little longer: "once" means no second one comes. */
async function settledMails(to: string, expected: number) {
  const deadline = Date.now() + 20_000;
  while (lockoutMails(to).length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  return lockoutMails(to);
}

describe('a stranger cannot lock the owner out', () => {
  it('four addresses fail 50 times each against an owner with two-factor sign-in; from a fifth, the owner still signs in with password and code', async () => {
    const owner = await createTestPartner(stack);
    const { secret, step } = await enrolTotp(await signedInClient(stack, owner.userId));

    const statuses = await attack(owner.email, '203.0.113');
    // Nobody got in; each address had its five free tries, then waited.
    expect(statuses).toHaveLength(200);
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    // The 20 failures reached the account-wide limit.
    expect(rateLimitRules.signInFailuresPerAccount.points).toBeLessThanOrEqual(20);

    const owners = await browserAt('198.51.100.5');
    const password = await owners.post('/sign-in', {
      email: owner.email,
      password: owner.password,
      next: '/dashboard',
    });
    expect(password.status).toBe(303);
    expect(password.location).toBe('/sign-in/two-factor?next=%2Fdashboard');
    const code = await owners.post('/sign-in/two-factor', { code: totpCode(secret, step + 1), next: '/dashboard' });
    expect(code.status).toBe(303);
    expect(code.location).toBe('/dashboard');
    expect((await owners.get('/dashboard')).status).toBe(200);

    // Every failure, the lockout and the sign-in are in the partner's trail, with the
    // client's address and never a password.
    const audit = await signInAudit(owner.userId);
    const failures = audit.filter((a) => a.action === 'sign_in.password' && a.outcome === 'rejected');
    expect(failures).toHaveLength(20);
    expect(new Set(failures.map((a) => a.detail.clientAddress))).toEqual(
      new Set(['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']),
    );
    expect(failures.every((a) => a.detail.reason === 'wrong_password')).toBe(true);
    expect(audit.filter((a) => a.action === 'sign_in.lockout')).toHaveLength(1);
    expect(audit.at(-1)).toMatchObject({
      action: 'sign_in.password',
      outcome: 'succeeded',
      org_id: owner.partnerId,
      partner_id: owner.partnerId,
      detail: { clientAddress: '198.51.100.5', next: 'two_factor' },
    });
    expect(JSON.stringify(audit)).not.toMatch(/guess-|correct horse/);
    expect(JSON.stringify(audit)).not.toContain(owner.password);
    const trail = (await (await stack.request('/v1/audit?limit=100', { token: owner.token })).json()) as {
      items: { action: string }[];
    };
    expect(trail.items.map((i) => i.action)).toContain('sign_in.lockout');

    // The owner was told once, that the password alone would not have let anyone in.
    const mails = await settledMails(owner.email, 1);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('20 wrong passwords');
    expect(mails[0]?.text).toContain('Two-factor sign-in is on');
  });

  it('an account without two-factor sign-in is held by the account-wide limit; the partner owners are told once', async () => {
    const owner = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'limited');

    const statuses = await attack(staff.email, '203.0.114');
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);

    // Held: even the right password, from an address that never failed, waits.
    const own = await browserAt('198.51.101.5');
    const held = await own.post('/sign-in', { email: staff.email, password: staff.password, next: '/dashboard' });
    expect(held.status).toBe(429);
    const retryAfter = Number(held.response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(rateLimitRules.signInFailuresPerAccount.duration);
    expect(own.cookies.has('mandate_session')).toBe(false);
    // …and a wrong password from a new address is answered the same way.
    const another = await browserAt('198.51.101.6');
    const wrong = await another.post('/sign-in', { email: staff.email, password: 'guess-x', next: '/dashboard' });
    expect(wrong.status).toBe(429);
    expect(wrong.html).toBe(held.html);

    const audit = await signInAudit(staff.userId);
    expect(audit.filter((a) => a.action === 'sign_in.lockout')).toHaveLength(1);
    // The right password while held is recorded like a wrong one: owners read this trail.
    const whileHeld = audit.filter((a) => a.detail.clientAddress === '198.51.101.5' && a.action === 'sign_in.password');
    expect(whileHeld.map((a) => [a.detail.reason, a.detail.accountHeld])).toEqual([['wrong_password', true]]);

    // The partner's owners hear of it (once), not the held staff member.
    const mails = await settledMails(owner.email, 1);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain(staff.email);
    expect(mails[0]?.text).toContain('held');
    expect(lockoutMails(staff.email)).toHaveLength(0);
  });

  it('a client user is told themselves, and an unknown address answers exactly like an account', async () => {
    const admin = await createClientAdmin(stack);
    const known = await attack(admin.email, '203.0.115', 10);
    const unknown = await attack(`nobody-${admin.userId.slice(-8)}@client.example`, '203.0.116', 10);
    expect(unknown).toEqual(known);
    const mails = await settledMails(admin.email, 1);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('held');
  });

  it('failures from one address make it wait, not the account', async () => {
    const admin = await createClientAdmin(stack);
    const guesser = await browserAt('203.0.117.1');
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      const answer = await guesser.post('/sign-in', { email: admin.email, password: `wrong-${i}`, next: '/' });
      statuses.push(answer.status);
      last = answer.response;
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const wait = Number(last?.headers.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(30);
    const failures = (await signInAudit(admin.userId)).filter((a) => a.outcome === 'rejected');
    expect(failures.map((a) => a.detail.addressWaitSeconds ?? 0)).toEqual([0, 0, 0, 0, 30]);
    expect(failures.every((a) => a.org_id === admin.orgId && a.partner_id === null)).toBe(true);

    const elsewhere = await browserAt('203.0.117.2');
    const right = await elsewhere.post('/sign-in', {
      email: admin.email,
      password: 'correct horse battery staple',
      next: '/org/delegations',
    });
    expect(right.status).toBe(303);
    expect(right.location).toBe('/org/delegations');
  });
});

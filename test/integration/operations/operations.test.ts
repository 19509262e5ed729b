import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember } from '../../helpers/dashboard.ts';
import { createTestPartner, createTestStaff, readProblem, waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

async function fullDelegation() {
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  return { fixture, delegationId, admin, owner: fixture.partner.token };
}

async function waitForOperation(token: string, id: string, states = ['succeeded', 'failed', 'rejected']) {
  return waitFor(async () => {
    const op = (await (await stack.request(`/v1/operations/${id}`, { token })).json()) as {
      state: string;
      result?: Record<string, unknown>;
      error?: string;
      attempts: number;
    };
    return states.includes(op.state) ? op : undefined;
  });
}

describe('provisioning a user', () => {
  it('creates the user once, emails the temporary password, and makes them change it at first sign-in', async () => {
    const { delegationId, owner } = await fullDelegation();
    const response = await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: owner,
      json: { displayName: 'Jo Newhire', userName: 'jo', notifyEmail: 'it-desk@partner.example' },
    });
    expect(response.status).toBe(202);
    const { operationId } = (await response.json()) as { operationId: string };
    expect(operationId).toMatch(/^op_/);
    await stack.startWorkers();
    const op = await waitForOperation(owner, operationId);
    expect(op.state).toBe('succeeded');
    const email = String(op.result?.email);
    expect(email).toMatch(/^jo@c[0-9a-f]{12}\.clients\.mandate\.localhost$/);

    const [user] = await stack.deps
      .sql`select id, must_change_password, is_global_admin, password_hash from users where email = ${email}`;
    expect(user).toMatchObject({ must_change_password: true, is_global_admin: false });
    const mail = (await sink.waitForMessages(1)).find((m) => m.to.includes('it-desk@partner.example'));
    const password = /Temporary password: (\S+)/.exec(mail?.text ?? '')?.[1] as string;
    // 23 symbols of 56 (≥ 128 bits), so its argon2id hash may use the lowest cost (ADR 8).
    expect(password).toMatch(/^[A-Za-z2-9]{23}$/);
    // Never stored or logged in plaintext: only its argon2id hash is in the database.
    expect(String(user?.password_hash)).toMatch(/^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
    const stored = JSON.stringify(await stack.deps.sql`select * from operations where id = ${operationId}`);
    expect(stored).not.toContain(password);

    // The new user signs in with it and must choose a new password first.
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    const signIn = await browser.post('/sign-in', { email, password, next: '/account' });
    expect(signIn.status).toBe(303);
    const forced = await browser.get('/account');
    expect(forced.status).toBe(303);
    expect(forced.response.headers.get('location')).toBe('/account/password?next=%2Faccount');
    const changed = await browser.post('/account/password', {
      password: 'my own long password',
      repeat: 'my own long password',
      next: '/account',
    });
    expect(changed.status).toBe(303);
    expect((await browser.get('/account')).status).toBe(200);
  });

  it('the same Idempotency-Key and body give the same operation; another body is refused', async () => {
    const { delegationId, owner } = await fullDelegation();
    const send = (body: Record<string, unknown>) =>
      stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: body,
        headers: { 'idempotency-key': 'hire-ann-2026' },
      });
    const first = (await (await send({ displayName: 'Ann', userName: 'ann' })).json()) as { operationId: string };
    await waitForOperation(owner, first.operationId);
    const second = await send({ displayName: 'Ann', userName: 'ann' });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { operationId: string }).operationId).toBe(first.operationId);
    const other = await send({ displayName: 'Ann', userName: 'ann2' });
    expect(other.status).toBe(422);
    expect((await readProblem(other)).code).toBe('IDEMPOTENCY_KEY_REUSED');
    const users = await stack.deps.sql`select count(*)::int as n from users where email like 'ann@%'`;
    expect(users[0]?.n).toBe(1);
  });

  it('a redelivered job creates nothing new and sends nothing new', async () => {
    const { delegationId, owner } = await fullDelegation();
    const { operationId } = (await (
      await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: 'Bo', userName: 'bo' },
      })
    ).json()) as { operationId: string };
    await waitForOperation(owner, operationId);
    const before = sink.messages.length;
    await stack.deps.queues
      .queue('operations')
      .add('provision-user', { operationId }, { jobId: `again.${operationId}` });
    await waitFor(
      async () => (await stack.deps.queues.queue('operations').getJobState(`again.${operationId}`)) === 'completed',
    );
    expect(sink.messages.length).toBe(before);
    expect((await stack.deps.sql`select count(*)::int as n from users where email like 'bo@%'`)[0]?.n).toBe(1);
  });

  it('refuses names on domains the organization does not own, and addresses in use', async () => {
    const { delegationId, owner } = await fullDelegation();
    const post = (userName: string) =>
      stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: 'X', userName },
      });
    expect((await post('someone@not-ours.example')).status).toBe(422);
    expect((await post('bad name')).status).toBe(422);
    const taken = await post(String((await stack.deps.sql`select email from users limit 1`)[0]?.email));
    expect([409, 422]).toContain(taken.status);
  });
});

describe('resetting a password', () => {
  it('sets a temporary password, ends the sessions, and emails the staff member who asked', async () => {
    const { delegationId, owner, admin, fixture } = await fullDelegation();
    const { operationId } = (await (
      await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: 'Cy', userName: 'cy' },
      })
    ).json()) as { operationId: string };
    const created = await waitForOperation(owner, operationId);
    const userId = String(created.result?.userId);
    await stack.deps.sql`insert into sessions (id, user_id) values ('s-cy', ${userId})`;
    const reset = await stack.request(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, {
      method: 'POST',
      token: owner,
    });
    expect(reset.status).toBe(202);
    const op = await waitForOperation(owner, ((await reset.json()) as { operationId: string }).operationId);
    expect(op.state).toBe('succeeded');
    expect(op.result?.temporaryPasswordSentTo).toBe(fixture.partner.email);
    expect(await stack.deps.sql`select 1 from sessions where user_id = ${userId}`).toHaveLength(0);
    const audit = await stack.deps
      .sql`select action, outcome from audit_events where org_id = ${admin.orgId} and action like 'operation.%' order by id`;
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual([
      'operation.provision_user:succeeded',
      'operation.reset_password:succeeded',
    ]);
  });
});

describe('the user whose password was reset is told', () => {
  it('by one email naming the staff member and the partner, even when the job runs again', async () => {
    const { delegationId, owner, fixture } = await fullDelegation();
    await stack.startWorkers();
    const staff = await createStaffMember(stack, owner, 'full');
    const created = await waitForOperation(
      owner,
      (
        (await (
          await stack.request(`/v1/delegations/${delegationId}/users`, {
            method: 'POST',
            token: owner,
            json: { displayName: 'Di', userName: 'di-reset' },
          })
        ).json()) as { operationId: string }
      ).operationId,
    );
    const userId = String(created.result?.userId);
    const userEmail = String(created.result?.email).toLowerCase();
    const reset = await stack.request(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, {
      method: 'POST',
      token: staff.token,
    });
    expect(reset.status).toBe(202);
    const { operationId } = (await reset.json()) as { operationId: string };
    expect((await waitForOperation(owner, operationId)).state).toBe('succeeded');

    // A worker that died after the change committed, before the outcome was recorded: the
    // reconciler runs the job again, which finds the password set and only records it…
    await stack.deps.sql`
      update operations set state = 'running', lease_until = now() - interval '1 second' where id = ${operationId}`;
    await reconcile(stack.deps, { minAgeSeconds: 0 });
    await waitFor(async () => {
      const [op] = await stack.deps.sql`select state, attempts from operations where id = ${operationId}`;
      return op?.state === 'succeeded' && op.attempts === 2;
    });
    // …and the user is told once.
    await waitFor(async () => sink.messages.some((m) => m.to.includes(userEmail)));
    await waitFor(async () =>
      (await stack.deps.sql`select 1 from emails where to_email = ${userEmail} and state = 'pending'`).length === 0
        ? true
        : undefined,
    );
    const told = sink.messages.filter((m) => m.to.includes(userEmail));
    expect(told).toHaveLength(1);
    const [partner] = await stack.deps.sql`select name from organizations where id = ${fixture.partner.partnerId}`;
    const text = told[0]?.text ?? '';
    expect(text).toContain('Staff full');
    expect(text).toContain(staff.email);
    expect(text).toContain(String(partner?.name));
    expect(text).toContain(userEmail);
    expect(text).not.toMatch(/Temporary password/);
    expect(
      await stack.deps.sql`select kind from emails where dedupe_key = ${`password-reset.${operationId}`}`,
    ).toHaveLength(1);
  });
});

describe('checked again when the job runs', () => {
  it('a delegation terminated after the request → rejected, no user created', async () => {
    await stack.workers?.close();
    stack.workers = undefined;
    const { delegationId, owner } = await fullDelegation();
    const { operationId } = (await (
      await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: 'Late', userName: 'late' },
      })
    ).json()) as { operationId: string };
    await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: owner });
    await stack.startWorkers();
    const op = await waitForOperation(owner, operationId);
    expect(op.state).toBe('rejected');
    expect(op.error).toContain('terminated');
    expect(await stack.deps.sql`select 1 from users where email like 'late@%'`).toHaveLength(0);
  });

  it("a staff member's access lowered after the request → rejected, no user created", async () => {
    await stack.workers?.close();
    stack.workers = undefined;
    const { delegationId, owner, fixture } = await fullDelegation();
    const staff = await createTestStaff(stack, fixture.partner.partnerId, ['global_admin']);
    const { operationId } = (await (
      await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: staff,
        json: { displayName: 'Lo', userName: 'lowered' },
      })
    ).json()) as { operationId: string };
    const [row] = await stack.deps.sql`select requested_by from operations where id = ${operationId}`;
    const change = await stack.request(`/v1/staff/${row?.requested_by}/access`, {
      method: 'PUT',
      token: owner,
      json: { access: 'limited' },
    });
    expect(change.status).toBe(200);
    await stack.startWorkers();
    const op = await waitForOperation(owner, operationId);
    expect(op.state).toBe('rejected');
    expect(await stack.deps.sql`select 1 from users where email like 'lowered@%'`).toHaveLength(0);
  });
});

describe('tenant isolation', () => {
  it("another partner's staff cannot list, provision or reset in this client: 404", async () => {
    const { delegationId } = await fullDelegation();
    const other = await createTestPartner(stack);
    for (const [method, path] of [
      ['GET', `/v1/delegations/${delegationId}/users`],
      ['POST', `/v1/delegations/${delegationId}/users`],
      ['POST', `/v1/delegations/${delegationId}/users/usr_${'0'.repeat(32)}/password-reset`],
      ['GET', `/v1/delegations/${delegationId}/domains`],
      ['POST', `/v1/delegations/${delegationId}/domains`],
    ] as const) {
      const response = await stack.request(path, {
        method,
        token: other.token,
        ...(method === 'POST'
          ? { json: path.endsWith('users') ? { displayName: 'x', userName: 'x' } : { name: 'x.example' } }
          : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
  });
});

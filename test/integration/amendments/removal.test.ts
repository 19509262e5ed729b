import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveDelegation, postAmendment } from '../../helpers/amendment-fixtures.ts';
import { waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  // No workers yet: the operations wait in the queue while the role is removed.
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

describe('removing a role while operations that need it are queued', () => {
  it('removing user_admin: the queued provision-user operations end rejected, nothing is created in the client organization', async () => {
    const { delegationId, owner, admin } = await createActiveDelegation(stack, ['password_admin', 'user_admin']);
    const usersOfClient = async () =>
      (await stack.deps.sql`select email from users where org_id = ${admin.orgId} order by email`).map((u) => u.email);
    const before = await usersOfClient();
    expect(before).toEqual([admin.email]);

    const operationIds: string[] = [];
    for (const userName of ['ana', 'ben', 'cy']) {
      const response = await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: userName, userName, notifyEmail: `${userName}-desk@partner.example` },
      });
      expect(response.status).toBe(202);
      operationIds.push(((await response.json()) as { operationId: string }).operationId);
    }

    const removal = await postAmendment(stack, owner, delegationId, { removeRoles: ['user_admin'] });
    expect(removal.status).toBe(202);
    expect(removal.body.state).toBe('applied');
    // A new request is refused at once…
    const refused = await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: owner,
      json: { displayName: 'Dee', userName: 'dee' },
    });
    expect(refused.status).toBe(403);

    // …and the queued ones are checked again when a worker runs them.
    await stack.startWorkers();
    const states = await waitFor(async () => {
      const rows = await stack.deps
        .sql`select id, state, error from operations where id in ${stack.deps.sql(operationIds)}`;
      return rows.every((r) => ['succeeded', 'failed', 'rejected'].includes(r.state as string)) ? rows : undefined;
    });
    expect(states.map((r) => r.state)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of states) expect(r.error).toContain('user_admin');

    // Independent evidence: the client organization's users, and the mail server.
    expect(await usersOfClient()).toEqual(before);
    await waitFor(async () => sink.messages.some((m) => m.subject?.includes('reduced')));
    expect(sink.messages.filter((m) => /New account/.test(m.subject ?? ''))).toEqual([]);
    const reduced = sink.messages.filter((m) => m.subject?.includes('reduced'));
    expect(reduced.map((m) => m.to)).toEqual([[admin.email.toLowerCase()]]);
    expect(reduced[0]?.text).toContain('Removes User administrator');
  });
});

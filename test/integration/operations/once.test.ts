import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createSql } from '../../../db/client.ts';
import { commitGroupOf } from '../../../lib/commit-group.ts';
import type { WorkerDeps } from '../../../lib/deps.ts';
import { createMailer, type Mailer } from '../../../lib/mailer.ts';
import { verifyPassword } from '../../../lib/secrets.ts';
import { provisionUser, resetPassword } from '../../../services/operations/handlers.ts';
import { type OperationHandler, runOperation } from '../../../services/operations/runner.ts';
import { waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * One operation, one effect and one email, whatever stops when. Each test runs the
 * operation the way a worker does (`runOperation`), makes it stop at a chosen point (a
 * trigger that raises), and runs it again the way a redelivered job or the reconciler
 * would. The evidence is outside Mandate's bookkeeping: what the SMTP server received,
 * the user's password hash and sessions in the client organization.
 */

let stack: TestStack;
let sink: SmtpSink;
let deps: WorkerDeps;
let faults = 0;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
const abandoned: { mailer: Mailer; runs: Promise<unknown>[] }[] = [];

beforeAll(async () => {
  sink = await startSmtpSink({
    // Every attempt for these recipients: the data arrives, the connection drops unanswered.
    dataRule: (to) => (to.startsWith('drop-always') ? 'drop' : undefined),
  });
  // Accepts connections and never says a word: no greeting, so no message can get through.
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  // K = 1, the strictest bound, unless a test says otherwise.
  stack = await createTestStack({ env: { SMTP_URL: sink.url, MAIL_UNCONFIRMED_MAX: '1' } });
  deps = { ...stack.deps, mailer: createMailer(stack.config), processId: 'once-test' };
  // Raises while the trigger's sequence (argument 1) is at most argument 2: a fault that
  // happens that many times, then clears. Sequences are not transactional, so the count
  // survives the rollback the fault causes.
  await stack.deps.sql.unsafe(`
    create function fail_first() returns trigger language plpgsql as $$
    begin
      if nextval(tg_argv[0]::regclass) <= tg_argv[1]::int then
        raise exception 'injected fault %', tg_argv[0];
      end if;
      return new;
    end $$`);
});
afterAll(async () => {
  for (const { mailer, runs } of abandoned) {
    mailer.close();
    await Promise.allSettled(runs);
  }
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  deps?.mailer.close();
  await stack.close();
  await sink.close();
});

/** Makes `update <table>` fail `times` times for rows matching `when` (a trigger WHEN condition). */
async function injectFault(table: 'users' | 'operations', when: string, times: number) {
  const name = `fault_${++faults}`;
  await stack.deps.sql.unsafe(`
    create sequence ${name};
    create trigger ${name} before update on ${table} for each row when (${when})
      execute function fail_first('${name}', '${times}')`);
  return () => stack.deps.sql.unsafe(`drop trigger ${name} on ${table}; drop sequence ${name}`);
}

/** The fault, as PostgreSQL raised it (drizzle wraps it in a "Failed query" error). */
function isInjectedFault(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) if (/injected fault/.test(e.message)) return true;
  return false;
}

class WorkerKilled extends Error {}

/**
 * The mailer of a worker that dies right after the server took the message: the email is
 * marked in doubt, the data goes out and is accepted, the outcome is never recorded.
 */
const dyingMailer = (): Mailer => ({
  messageIdDomain: deps.mailer.messageIdDomain,
  send: (email) => deps.mailer.send(email),
  sendAndRecord: (email, _record, options) =>
    deps.mailer.sendAndRecord(
      email,
      async () => {
        throw new WorkerKilled('killed before recording');
      },
      options,
    ),
  close: () => {},
});

async function fullDelegation() {
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId } = await activateDelegation(stack, fixture);
  return { delegationId, owner: fixture.partner.token, ownerEmail: fixture.partner.email.toLowerCase() };
}

/** Asked through the API; no worker runs in this file, the tests run it. */
async function ask(path: string, token: string, json?: unknown): Promise<string> {
  const response = await stack.request(path, { method: 'POST', token, ...(json ? { json } : {}) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { operationId: string }).operationId;
}

function run(operationId: string, handler: OperationHandler, isFinalAttempt = false) {
  return runOperation(deps, operationId, handler, { isFinalAttempt, logger: stack.deps.logger });
}

/** What a worker that died holding the operation leaves behind, once its lease has run out. */
async function leaseRunsOut(operationId: string) {
  await stack.deps.sql`
    update operations set state = 'running', lease_until = now() - interval '1 second' where id = ${operationId}`;
}

/** The temporary passwords the SMTP server received for `to`, with their Message-IDs. */
function temporaryPasswordsTo(to: string) {
  return sink.messages
    .filter((m) => m.to.includes(to))
    .map((m) => ({ password: /Temporary password: (\S+)/.exec(m.text)?.[1], messageId: m.messageId }))
    .filter((m) => m.password !== undefined);
}

async function userRow(userId: string) {
  const [user] = await stack.deps.sql`
    select password_hash, (select count(*)::int from sessions s where s.user_id = u.id) as sessions
    from users u where id = ${userId}`;
  return user as { password_hash: string; sessions: number };
}

/** A user of the client, provisioned (and its email received) before the test's own operation. */
async function provisioned(delegationId: string, owner: string, userName: string) {
  const operationId = await ask(`/v1/delegations/${delegationId}/users`, owner, {
    displayName: userName,
    userName,
    notifyEmail: `${userName}-desk@partner.example`,
  });
  const outcome = await run(operationId, provisionUser);
  if (outcome.outcome !== 'succeeded') throw new Error(`not provisioned: ${JSON.stringify(outcome)}`);
  return String(outcome.result.userId);
}

describe('reset-password runs once', () => {
  it('stopped after its email left and before the password was set, a re-run sends no second password', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-stop');
    await stack.deps.sql`insert into sessions (id, user_id) values ('s-reset-stop', ${userId})`;
    const clear = await injectFault('users', `new.id = '${userId}' and new.password_hash <> old.password_hash`, 1);
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);

    const thrown = await run(operationId, resetPassword).catch((error: unknown) => error);
    expect(thrown).toSatisfy(isInjectedFault);
    // What the queue keeps of it (the job's failed reason and stack, on the job board for
    // days) holds none of the failed statement's parameters (here the new password's hash)…
    expect(`${(thrown as Error).message}\n${(thrown as Error).stack}`).not.toContain('argon2');
    // …nor does why the attempt stopped, as recorded for the partner and the client.
    const [stopped] = await stack.deps.sql`
      select o.error, a.detail from operations o join audit_events a on a.target_id = o.id
      where o.id = ${operationId}`;
    expect(stopped?.error).toMatch(/injected fault|Failed query/);
    expect(JSON.stringify(stopped)).not.toContain('argon2');
    expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });
    await clear();

    const sent = temporaryPasswordsTo(ownerEmail);
    expect(new Set(sent.map((s) => s.password)).size).toBe(1);
    expect(new Set(sent.map((s) => s.messageId)).size).toBe(1);
    expect(sent).toHaveLength(1);
    const user = await userRow(userId);
    expect(await verifyPassword(user.password_hash, String(sent[0]?.password))).toBe(true);
    expect(user.sessions).toBe(0);
  });

  it('stopped between the server taking its email and the record of it, a re-run resends the same email', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-unrecorded');
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);
    // The worker dies as the server answers: the email was marked in doubt and went out,
    // and its record never comes.
    await expect(
      runOperation({ ...deps, mailer: dyingMailer() }, operationId, resetPassword, {
        isFinalAttempt: false,
        logger: stack.deps.logger,
      }),
    ).rejects.toThrow(/killed before recording/);
    await leaseRunsOut(operationId);
    expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });

    // The one duplicate such a stop can cause: the same message, which a receiver can drop by its Message-ID.
    const sent = temporaryPasswordsTo(ownerEmail);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((s) => s.password)).size).toBe(1);
    expect(new Set(sent.map((s) => s.messageId)).size).toBe(1);
    expect(await verifyPassword((await userRow(userId)).password_hash, String(sent[0]?.password))).toBe(true);
    // Nothing that opens to the password is kept once it is set.
    const [op] = await stack.deps.sql`select temporary_password from operations where id = ${operationId}`;
    expect(Object.keys(op?.temporary_password ?? {}).sort()).toEqual([
      'emailedAt',
      'messageId',
      'sentTo',
      'setAt',
      'toClientAdmin',
      'uncertainSends',
    ]);
    expect(op?.temporary_password.uncertainSends).toBe(1);
  });

  it('a record of its email that fails for a while is retried until written: no second email', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-record-retried');
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);
    // The first writes that would record the email as sent fail.
    const clear = await injectFault(
      'operations',
      `new.id = '${operationId}' and new.temporary_password ? 'emailedAt'`,
      3,
    );
    expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });
    await clear();

    const sent = temporaryPasswordsTo(ownerEmail);
    expect(sent).toHaveLength(1);
    expect(await verifyPassword((await userRow(userId)).password_hash, String(sent[0]?.password))).toBe(true);
  });

  it('two runs at once (a lease that ran out mid-send): one password, set once', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-race');
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);
    // The first run's SMTP server is slow: its lease runs out while it sends.
    const slowSink = await startSmtpSink({ dataDelayMs: 1500 });
    const slowMailer = createMailer({ ...stack.config, smtpUrl: slowSink.url });
    try {
      const first = runOperation({ ...deps, mailer: slowMailer }, operationId, resetPassword, {
        isFinalAttempt: false,
        logger: stack.deps.logger,
      });
      // Its email marked in doubt, the end of its data at the server.
      await waitFor(async () => {
        const [op] = await stack.deps.sql`
          select temporary_password ? 'inDoubt' as marked from operations where id = ${operationId}`;
        return slowSink.receiving > 0 && op?.marked === true;
      });
      await stack.deps.sql`update operations set lease_until = now() - interval '1 second' where id = ${operationId}`;
      expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });
      await stack.deps.sql`insert into sessions (id, user_id) values ('s-reset-race', ${userId})`;
      const before = await userRow(userId);
      await first;

      // Each server has the same message (the one copy a lost lease can cause); nothing else changed.
      const copies = [...sink.messages, ...slowSink.messages]
        .filter((m) => m.to.includes(ownerEmail))
        .map((m) => ({ password: /Temporary password: (\S+)/.exec(m.text)?.[1], messageId: m.messageId }));
      expect(copies).toHaveLength(2);
      expect(new Set(copies.map((c) => c.password)).size).toBe(1);
      expect(new Set(copies.map((c) => c.messageId)).size).toBe(1);
      expect(await userRow(userId)).toEqual(before);
      expect(await verifyPassword(before.password_hash, String(copies[0]?.password))).toBe(true);
    } finally {
      slowMailer.close();
      await slowSink.close();
    }
  });

  it('run again after the password was set, it neither changes it nor ends the new sessions', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-again');
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);
    expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });
    // The user signs in with the temporary password…
    await stack.deps.sql`insert into sessions (id, user_id) values ('s-reset-again', ${userId})`;
    const before = await userRow(userId);

    // …and a worker that died before recording the outcome is replaced.
    await leaseRunsOut(operationId);
    expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });

    const after = await userRow(userId);
    expect(after.password_hash).toBe(before.password_hash);
    expect(after.sessions).toBe(1);
    const sent = temporaryPasswordsTo(ownerEmail);
    expect(sent).toHaveLength(1);
    expect(await verifyPassword(after.password_hash, String(sent[0]?.password))).toBe(true);
  });

  it('when recording its success fails on the last attempt, it is recorded succeeded, not failed', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-record');
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);
    const clear = await injectFault('operations', `new.id = '${operationId}' and new.state = 'succeeded'`, 1);

    expect(await run(operationId, resetPassword, true)).toMatchObject({ outcome: 'succeeded' });
    await clear();

    const [op] = await stack.deps.sql`select state from operations where id = ${operationId}`;
    expect(op?.state).toBe('succeeded');
    const sent = temporaryPasswordsTo(ownerEmail);
    expect(sent).toHaveLength(1);
    expect(await verifyPassword((await userRow(userId)).password_hash, String(sent[0]?.password))).toBe(true);
  });

  it('when recording the outcome keeps failing, the redelivered job records it without doing it again', async () => {
    const { delegationId, owner, ownerEmail } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'reset-down');
    const operationId = await ask(`/v1/delegations/${delegationId}/users/${userId}/password-reset`, owner);
    const clear = await injectFault('operations', `new.id = '${operationId}' and new.state <> 'running'`, 100);

    // The database refuses every outcome this attempt tries to record: the attempt gives up
    // without recording a failure…
    await expect(run(operationId, resetPassword, true)).rejects.toSatisfy(isInjectedFault);
    await clear();
    const [stuck] = await stack.deps.sql`select state from operations where id = ${operationId}`;
    expect(stuck?.state).toBe('running');
    await stack.deps.sql`insert into sessions (id, user_id) values ('s-reset-down', ${userId})`;
    const before = await userRow(userId);

    // …and the next run (the reconciler's, once the lease is out) records the success.
    await leaseRunsOut(operationId);
    expect(await run(operationId, resetPassword)).toMatchObject({ outcome: 'succeeded' });
    const after = await userRow(userId);
    expect(after).toEqual(before);
    expect(temporaryPasswordsTo(ownerEmail)).toHaveLength(1);
  });
});

describe('provision-user runs once', () => {
  it('stopped after its email left and before the password was set, a re-run sends no second password', async () => {
    const { delegationId, owner } = await fullDelegation();
    const operationId = await ask(`/v1/delegations/${delegationId}/users`, owner, {
      displayName: 'Stop',
      userName: 'prov-stop',
      notifyEmail: 'prov-stop-desk@partner.example',
    });
    const clear = await injectFault('users', `new.email like 'prov-stop@%' and new.password_hash <> '!'`, 1);

    await expect(run(operationId, provisionUser)).rejects.toSatisfy(isInjectedFault);
    const outcome = await run(operationId, provisionUser);
    await clear();
    expect(outcome).toMatchObject({ outcome: 'succeeded' });

    const sent = temporaryPasswordsTo('prov-stop-desk@partner.example');
    expect(new Set(sent.map((s) => s.password)).size).toBe(1);
    expect(new Set(sent.map((s) => s.messageId)).size).toBe(1);
    expect(sent).toHaveLength(1);
    const users = await stack.deps.sql`select id, password_hash from users where email like 'prov-stop@%'`;
    expect(users).toHaveLength(1);
    expect(await verifyPassword(String(users[0]?.password_hash), String(sent[0]?.password))).toBe(true);
  });

  it('run again after the password was set, it neither changes it nor emails again', async () => {
    const { delegationId, owner } = await fullDelegation();
    const userId = await provisioned(delegationId, owner, 'prov-again');
    const operationId = String(
      (await stack.deps.sql`select id from operations where result->>'userId' = ${userId}`)[0]?.id,
    );
    await stack.deps.sql`insert into sessions (id, user_id) values ('s-prov-again', ${userId})`;
    const before = await userRow(userId);

    await leaseRunsOut(operationId);
    expect(await run(operationId, provisionUser)).toMatchObject({ outcome: 'succeeded' });

    expect(await userRow(userId)).toEqual(before);
    const sent = temporaryPasswordsTo('prov-again-desk@partner.example');
    expect(sent).toHaveLength(1);
    expect(await verifyPassword(before.password_hash, String(sent[0]?.password))).toBe(true);
  });
});

describe('a temporary password email in doubt', () => {
  it('when the connection drops after the data on every attempt: two copies at most, then failed, not set', async () => {
    const { delegationId, owner } = await fullDelegation();
    const to = 'drop-always-prov@partner.example';
    const operationId = await ask(`/v1/delegations/${delegationId}/users`, owner, {
      displayName: 'Dropped',
      userName: 'prov-dropped',
      notifyEmail: to,
    });
    // What the job's attempts do: each failed attempt puts the operation back in the queue.
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const outcome = await run(operationId, provisionUser, attempt === 6).catch(() => ({ outcome: 'retry' }));
      outcomes.push(outcome.outcome);
      if (outcome.outcome !== 'retry') break;
    }

    expect(temporaryPasswordsTo(to).length).toBeLessThanOrEqual(2);
    expect(outcomes).toEqual(['retry', 'retry', 'failed']);
    const [op] = await stack.deps
      .sql`select state, error, temporary_password from operations where id = ${operationId}`;
    expect(op?.state).toBe('failed');
    expect(op?.error).toMatch(/not emailed again/);
    expect(op?.temporary_password).toBeNull();
    // Nothing set on assumption: the user still has no usable password.
    const [user] = await stack.deps.sql`select password_hash from users where email like 'prov-dropped@%'`;
    expect(user?.password_hash).toBe('!');
  });

  it('a crash while several are claimed counts only the one whose turn came, not every leased one', async () => {
    const { delegationId, owner } = await fullDelegation();
    const names = ['prov-claimed-0', 'prov-claimed-1', 'prov-claimed-2'];
    const operationIds: string[] = [];
    for (const name of names) {
      operationIds.push(
        await ask(`/v1/delegations/${delegationId}/users`, owner, {
          displayName: name,
          userName: name,
          notifyEmail: `${name}-desk@partner.example`,
        }),
      );
    }
    const config = { ...stack.config, smtpUrl: `smtp://127.0.0.1:${(silent.address() as net.AddressInfo).port}` };
    for (let crash = 1; crash <= 2; crash++) {
      // A process runs every operation, its messages go nowhere, and it dies.
      const mailer = createMailer(config);
      const runs = operationIds.map((id) =>
        runOperation({ ...deps, mailer }, id, provisionUser, {
          isFinalAttempt: false,
          logger: stack.deps.logger,
        }).catch(() => undefined),
      );
      abandoned.push({ mailer, runs });
      await waitFor(async () => {
        const [row] = await stack.deps.sql`select
          count(*) filter (where attempts = ${crash} and temporary_password ? 'messageId')::int as prepared,
          count(*) filter (where temporary_password ? 'inDoubt')::int as marked,
          coalesce(sum((temporary_password->>'uncertainSends')::int), 0)::int as counted
          from operations where id = any(${operationIds})`;
        // Every one claimed and prepared, the last crash's mark counted, one marked in its turn.
        return row?.prepared === operationIds.length && row?.counted === crash - 1 && row?.marked === 1;
      });
      for (const id of operationIds) await leaseRunsOut(id);
    }

    for (const id of operationIds) await run(id, provisionUser);

    const failed = await stack.deps.sql`
      select input->>'notifyEmail' as to from operations where id = any(${operationIds}) and state = 'failed'`;
    const failedNeverReceived = failed.map((r) => r.to as string).filter((to) => temporaryPasswordsTo(to).length === 0);
    // Only the email whose turn to end its data had come can be in doubt: at most
    // MAIL_UNCONFIRMED_MAX (1) per process, whether or not the server had it.
    expect(failedNeverReceived.length).toBeLessThanOrEqual(1);
    for (const name of names) {
      const to = `${name}-desk@partner.example`;
      if (!failedNeverReceived.includes(to)) expect(temporaryPasswordsTo(to)).toHaveLength(1);
    }
  });

  it('its mark and its record go through the commit group of every email of the process', async () => {
    const { delegationId, owner } = await fullDelegation();
    const operationId = await ask(`/v1/delegations/${delegationId}/users`, owner, {
      displayName: 'Grouped',
      userName: 'prov-grouped',
      notifyEmail: 'prov-grouped-desk@partner.example',
    });
    const sql = createSql(stack.config.databaseUrl, { max: 2 });
    try {
      const db = createDb(sql);
      const outcome = await runOperation({ ...deps, db }, operationId, provisionUser, {
        isFinalAttempt: false,
        logger: stack.deps.logger,
      });
      expect(outcome).toMatchObject({ outcome: 'succeeded' });
      // The mark (before the end of data) and the record (after the server's answer).
      expect(commitGroupOf(db).commits).toBe(2);
    } finally {
      await sql.end();
    }
    expect(temporaryPasswordsTo('prov-grouped-desk@partner.example')).toHaveLength(1);
  });
});

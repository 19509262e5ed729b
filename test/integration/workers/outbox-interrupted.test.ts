import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer, type Mailer } from '../../../lib/mailer.ts';
import { recordEmails, sendEmail } from '../../../services/mail/outbox.ts';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A notification whose send keeps being interrupted — a poison message that kills the
 * worker between handing it to the SMTP server and recording it — is sent at most twice
 * (docs/adr/0005), then marked failed with the reason, like an offer email is assumed sent.
 */
let stack: TestStack;
let sink: SmtpSink;
let mailer: Mailer;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
  mailer = createMailer(stack.config);
});
afterAll(async () => {
  mailer.close();
  await stack.close();
  await sink.close();
});

class WorkerKilled extends Error {}

/**
 * The mailer of a worker that dies right after the server took the message: the email is
 * marked in doubt, the data goes out and is accepted, the outcome is never recorded, and
 * the mark and the claim's lease are left behind.
 */
const dyingMailer = (): Mailer => ({
  messageIdDomain: mailer.messageIdDomain,
  send: (email) => mailer.send(email),
  sendAndRecord: (email, _record, options) =>
    mailer.sendAndRecord(
      email,
      async () => {
        throw new WorkerKilled('killed before recording');
      },
      options,
    ),
  close: () => {},
});

describe('an interrupted notification', () => {
  it('is sent at most twice, then marked failed instead of resent', async () => {
    const to = 'poison@x.example';
    const [id] = await recordEmails(stack.deps.db, mailer.messageIdDomain, [
      { dedupeKey: `test.poison.${to}`, kind: 'test', toEmail: to, content: { subject: 'Hi', text: 'x', html: 'x' } },
    ]);
    const deps = (m: Mailer) => ({ db: stack.deps.db, config: stack.config, mailer: m, logger: stack.deps.logger });

    const outcomes: string[] = [];
    for (let run = 1; run <= 5; run++) {
      const result = await sendEmail(deps(dyingMailer()), id as string, { isFinalAttempt: false }).catch(
        (error: unknown) => {
          if (!(error instanceof WorkerKilled)) throw error;
          return { outcome: 'killed' };
        },
      );
      outcomes.push(result.outcome);
      // The dead worker's lease runs out; the job (redelivered as stalled, or re-added by
      // the reconciler) runs again.
      await stack.deps.sql`
        update emails set lease_until = now() - interval '1 second' where id = ${id as string} and lease_until is not null`;
    }
    // A healthy worker takes it up afterwards: still no third copy.
    outcomes.push((await sendEmail(deps(mailer), id as string, { isFinalAttempt: false })).outcome);

    expect(sink.messages.filter((m) => m.to.includes(to))).toHaveLength(2);
    expect(outcomes).toEqual(['killed', 'killed', 'interrupted', 'skipped', 'skipped', 'skipped']);
    const [row] = await stack.deps.sql`select state, uncertain_sends, last_error, lease_until from emails where id = ${
      id as string
    }`;
    expect(row).toMatchObject({ state: 'failed', uncertain_sends: 2, lease_until: null });
    expect(row?.last_error).toMatch(/interrupted/);
    // Nothing left for the reconciler to re-enqueue.
    expect((await reconcile(stack.deps, { minAgeSeconds: 0 })).emails).toBe(0);
  });
});

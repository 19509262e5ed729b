import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEmails } from '../../../services/mail/outbox.ts';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { startWorkers } from '../../../workers/run.ts';
import { waitFor } from '../../helpers/factories.ts';
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

/** One outbox email, recorded but not enqueued. */
async function recordEmail(to: string): Promise<string> {
  const [id] = await recordEmails(stack.deps.db, 'mandate.test', [
    {
      dedupeKey: `upgrade.${to}`,
      kind: 'test',
      toEmail: to,
      content: { subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' },
    },
  ]);
  return id as string;
}

const emailState = async (id: string) => (await stack.deps.sql`select state from emails where id = ${id}`)[0]?.state;

describe('transactional mail on its own queue', () => {
  it('the reconciler puts an unsent email back on the transactional queue, not the campaign one', async () => {
    const id = await recordEmail('lost@client.example');
    await reconcile(stack.deps, { minAgeSeconds: 0 });
    expect(await stack.deps.queues.queue('transactional-mail').getJobState(`send-email.${id}`)).toBe('waiting');
    expect(await stack.deps.queues.queue('mail').getJob(`send-email.${id}`)).toBeUndefined();
    await stack.deps.queues.queue('transactional-mail').obliterate({ force: true });
  });

  it('an email job queued on the mail queue before the upgrade is still sent', async () => {
    const id = await recordEmail('before-upgrade@client.example');
    const mail = stack.deps.queues.queue('mail');
    await mail.add('send-email', { emailId: id }, { jobId: `send-email.${id}` });
    // Only the campaign queue's worker, and no reconciler: the old job alone must do it.
    stack.workers = await startWorkers(stack.deps, { queues: ['mail'], resume: false });
    await waitFor(async () => (await mail.getJobState(`send-email.${id}`)) === 'completed');
    expect(await emailState(id)).toBe('sent');
    expect(sink.messages.filter((m) => m.to.includes('before-upgrade@client.example'))).toHaveLength(1);
  });
});

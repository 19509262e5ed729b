import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../core/errors.ts';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { startWorkers } from '../../../workers/run.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
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

describe('resuming unfinished work', () => {
  it('re-adds the token of a chunk whose job failed in the queue while PostgreSQL still says invited', async () => {
    const { token } = await createTestPartner(stack);
    const offer = await createTestOffer(stack, token);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients: [{ email: 'stuck@x.example' }] },
    });
    const { id: campaignId } = (await response.json()) as { id: string };
    const [row] = await stack.deps.sql`select id from delegations where campaign_id = ${campaignId}`;
    const delegationId = row?.id as string;
    const tokenId = `send-chunk.${campaignId}.0`;

    // The chunk's token, replaced by one under its id that fails for good without touching
    // the rows (an unreadable payload), as after a database error on the last attempt.
    const chunks = stack.deps.queues.queue('campaign-mail');
    await chunks.obliterate({ force: true });
    await chunks.add('send-chunk', { campaignId: 42 }, { jobId: tokenId, attempts: 1 });
    stack.workers = await startWorkers(stack.deps, { resume: false });
    await waitFor(async () => (await chunks.getJobState(tokenId)) === 'failed');
    expect((await stack.deps.sql`select state from delegations where id = ${delegationId}`)[0]?.state).toBe('invited');

    // A plain enqueue is ignored while the failed job is kept…
    await stack.deps.queues.enqueue('send-chunk', { campaignId, chunk: 0 });
    expect(await chunks.getJobState(tokenId)).toBe('failed');
    // …the reconciler replaces it, and the email goes out.
    const reconciled = await reconcile(stack.deps, { minAgeSeconds: 0 });
    expect(reconciled.invited).toBe(1);
    await waitFor(
      async () =>
        (await stack.deps.sql`select state from delegations where id = ${delegationId}`)[0]?.state === 'offered',
    );
    expect(sink.messages.filter((m) => m.to.includes('stuck@x.example'))).toHaveLength(1);
  });

  it('a worker starts even when its resume finds the queue not answering: the periodic reconciler takes over', async () => {
    // The first test's workers stopped, so no one sends this campaign before the resume.
    await stack.workers?.close();
    stack.workers = undefined;
    const { token } = await createTestPartner(stack);
    const offer = await createTestOffer(stack, token);
    await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients: [{ email: 'late@x.example' }] },
    });
    // Its token lost, as when Redis restarted without persistence.
    await stack.deps.queues.queue('campaign-mail').obliterate({ force: true });
    const enqueueBulk = vi
      .spyOn(stack.deps.queues, 'enqueueBulk')
      .mockRejectedValue(new AppError('DEPENDENCY_UNAVAILABLE', 'The queue (postgres) did not answer'));
    try {
      const workers = await startWorkers(stack.deps, { queues: ['mail'] });
      await workers.close();
      expect(enqueueBulk).toHaveBeenCalled();
    } finally {
      enqueueBulk.mockRestore();
    }
  });
});

import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { sendEmail } from '../../services/mail/outbox.ts';
import { defineJob } from '../job.ts';

/** Sends one notification email from the outbox (the `emails` table). */
export const sendEmailJob = defineJob({
  name: 'send-email',
  queue: 'mail',
  payload: z.object({ emailId: z.string().min(1) }),
  jobId: ({ emailId }) => `send-email.${emailId}`,
  options: (config) => ({
    attempts: config.mailAttempts,
    backoff: { type: 'exponential', delay: config.mailBackoffMs },
  }),
  async handle({ emailId }, { deps, logger, isFinalAttempt }) {
    const result = await sendEmail({ ...deps, logger }, emailId, { isFinalAttempt });
    if (result.outcome === 'failed') throw new UnrecoverableError(`Email not delivered: ${result.reply}`);
    return result;
  },
});

import { UnrecoverableError } from 'bullmq';
import { sendEmail } from '../../services/mail/outbox.ts';
import type { JobHandler } from '../job.ts';

/** Sends one notification email from the outbox (the `emails` table). */
export const handleSendEmail: JobHandler<'send-email'> = async ({ emailId }, { deps, logger, isFinalAttempt }) => {
  const result = await sendEmail({ ...deps, logger }, emailId, { isFinalAttempt });
  if (result.outcome === 'failed') throw new UnrecoverableError(`Email not delivered: ${result.reply}`);
  if (result.outcome === 'interrupted') throw new UnrecoverableError(result.reason);
  return result;
};

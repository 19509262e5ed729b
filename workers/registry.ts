import type { z } from 'zod';
import type { JobDefinition } from './job.ts';
import { addDomainJob } from './jobs/add-domain.ts';
import { dispatchCampaignJob } from './jobs/dispatch-campaign.ts';
import { lifecycleTickJob } from './jobs/lifecycle-tick.ts';
import { processAcceptanceJob } from './jobs/process-acceptance.ts';
import { provisionUserJob } from './jobs/provision-user.ts';
import { reconcileJob } from './jobs/reconcile.ts';
import { resetPasswordJob } from './jobs/reset-password.ts';
import { sendEmailJob } from './jobs/send-email.ts';
import { sendOfferJob } from './jobs/send-offer.ts';
import { verifyDomainJob } from './jobs/verify-domain.ts';

/** Every job Mandate runs, by name. `enqueue('send-offer', payload)` is checked against it. */
export const jobs = {
  [sendOfferJob.name]: sendOfferJob,
  [dispatchCampaignJob.name]: dispatchCampaignJob,
  [sendEmailJob.name]: sendEmailJob,
  [processAcceptanceJob.name]: processAcceptanceJob,
  [lifecycleTickJob.name]: lifecycleTickJob,
  [reconcileJob.name]: reconcileJob,
  [provisionUserJob.name]: provisionUserJob,
  [resetPasswordJob.name]: resetPasswordJob,
  [addDomainJob.name]: addDomainJob,
  [verifyDomainJob.name]: verifyDomainJob,
} as const;

export type Jobs = typeof jobs;
export type JobName = keyof Jobs;
export type JobPayload<N extends JobName> = Jobs[N] extends JobDefinition<N, infer S> ? z.input<S> : never;

export function findJob(name: string): JobDefinition | undefined {
  return Object.hasOwn(jobs, name) ? (jobs[name as JobName] as unknown as JobDefinition) : undefined;
}

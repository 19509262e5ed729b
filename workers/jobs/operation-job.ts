import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import type { OperationHandler } from '../../services/operations/runner.ts';
import { runOperation } from '../../services/operations/runner.ts';
import type { JobContext } from '../job.ts';

export const operationPayload = z.object({ operationId: z.string().min(1) });

/** The handler shared by the operation jobs: run it, and map its outcome for BullMQ. */
export function handleOperation(handler: OperationHandler) {
  return async ({ operationId }: z.output<typeof operationPayload>, { deps, logger, isFinalAttempt }: JobContext) => {
    const outcome = await runOperation(deps, operationId, handler, { isFinalAttempt, logger });
    // A rejected operation is a final answer, not a job failure; a failed one is.
    if (outcome.outcome === 'failed') throw new UnrecoverableError(outcome.error);
    return outcome;
  };
}

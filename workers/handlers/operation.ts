import { UnrecoverableError } from 'bullmq';
import { type OperationJob, operationKindNames, operationKinds } from '../../core/operation-kinds.ts';
import { operationHandlers } from '../../services/operations/handlers.ts';
import { type OperationHandler, runOperation } from '../../services/operations/runner.ts';
import type { JobHandler } from '../job.ts';

/** The handler shared by the operation jobs: run it, and map its outcome for BullMQ. */
function handleOperation(handler: OperationHandler): JobHandler<OperationJob> {
  return async ({ operationId }, { deps, logger, isFinalAttempt }) => {
    const outcome = await runOperation(deps, operationId, handler, { isFinalAttempt, logger });
    // A rejected operation is a final answer, not a job failure; a failed one is.
    if (outcome.outcome === 'failed') throw new UnrecoverableError(outcome.error);
    return outcome;
  };
}

/** One job handler per operation kind, from the kinds table. */
export const operationJobHandlers = Object.fromEntries(
  operationKindNames.map((kind) => [operationKinds[kind].job, handleOperation(operationHandlers[kind])]),
) as { [N in OperationJob]: JobHandler<N> };

import { processAcceptance } from '../../services/offers/acceptance.ts';
import type { JobHandler } from '../job.ts';

/** Grants an accepted delegation (accepting → active, or failed with a reason). */
export const handleProcessAcceptance: JobHandler<'process-acceptance'> = ({ delegationId }, { deps }) =>
  processAcceptance(deps, delegationId);

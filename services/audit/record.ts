import type { DbOrTx } from '../../db/client.ts';
import { auditEvents } from '../../db/schema/index.ts';
import { fenceClaim } from '../shared/idempotency-keys.ts';

export type AuditInput = typeof auditEvents.$inferInsert;

/**
 * Records who did what, for whom, where, with what outcome. Call inside the change's
 * transaction: for a request with an `Idempotency-Key`, it also checks, in that
 * transaction, that the request still holds its key (the fence of ADR 19) — a refusal
 * (`rejected`) is no change and is recorded without it.
 */
export async function recordAudit(db: DbOrTx, event: AuditInput): Promise<void> {
  if (event.outcome !== 'rejected') await fenceClaim(db);
  await db.insert(auditEvents).values(event);
}

import type { DbOrTx } from '../../db/client.ts';
import { auditEvents } from '../../db/schema/index.ts';

export type AuditInput = typeof auditEvents.$inferInsert;

/** Records who did what, for whom, where, with what outcome. Call inside the change's transaction. */
export async function recordAudit(db: DbOrTx, event: AuditInput): Promise<void> {
  await db.insert(auditEvents).values(event);
}

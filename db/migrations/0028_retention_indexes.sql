-- mandate:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS "delegation_events_created_brin" ON "delegation_events" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "emails_created_brin" ON "emails" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "expiry_notices_ends_at_idx" ON "expiry_notices" USING btree ("ends_at");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "operations_created_brin" ON "operations" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_events_pending_idx" ON "audit_events" USING btree ("target_id") WHERE "audit_events"."outcome" = 'pending';--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_events_request_idx" ON "audit_events" USING btree ("request_id") WHERE "audit_events"."request_id" is not null;

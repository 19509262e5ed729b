CREATE INDEX "audit_events_pending_idx" ON "audit_events" USING btree ("target_id") WHERE "audit_events"."outcome" = 'pending';--> statement-breakpoint
-- An operation in flight when this runs was asked for in the old way (a row for the asking,
-- then rows for its changes and its outcome): its asking row becomes its one pending row,
-- which the worker then brings to its outcome (services/audit/operation-trail.ts).
UPDATE "audit_events" a SET "action" = 'operation.' || o."kind", "outcome" = 'pending'
FROM "operations" o
WHERE a."target_type" = 'operation' AND a."target_id" = o."id"
  AND a."action" = 'operation.request.' || o."kind" AND o."state" IN ('queued', 'running');

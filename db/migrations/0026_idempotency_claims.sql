ALTER TABLE "idempotency_keys" ADD COLUMN "request_id" text;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "claimed_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "audit_events_request_idx" ON "audit_events" USING btree ("request_id") WHERE "audit_events"."request_id" is not null;
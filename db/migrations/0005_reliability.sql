CREATE TABLE "idempotency_keys" (
	"user_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"content_type" text,
	"body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_user_id_key_pk" PRIMARY KEY("user_id","key")
);
--> statement-breakpoint
DROP INDEX "operations_idempotency_unique";--> statement-breakpoint
ALTER TABLE "delegations" ADD COLUMN "uncertain_sends" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "delegations_invited_updated_idx" ON "delegations" USING btree ("updated_at") WHERE "delegations"."state" = 'invited';--> statement-breakpoint
CREATE INDEX "delegations_accepting_idx" ON "delegations" USING btree ("accepted_at") WHERE "delegations"."state" = 'accepting';--> statement-breakpoint
CREATE INDEX "operations_unfinished_idx" ON "operations" USING btree ("updated_at") WHERE "operations"."state" in ('queued', 'running');--> statement-breakpoint
ALTER TABLE "operations" DROP COLUMN "idempotency_key";--> statement-breakpoint
ALTER TABLE "operations" DROP COLUMN "request_hash";
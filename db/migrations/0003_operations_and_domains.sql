CREATE TABLE "domains" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"verification_token" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"verified_at" timestamp with time zone,
	"last_checked_at" timestamp with time zone,
	"last_found" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "domains_state_check" CHECK ("domains"."state" in ('pending', 'verified', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"id" text PRIMARY KEY NOT NULL,
	"partner_id" text NOT NULL,
	"delegation_id" text NOT NULL,
	"client_org_id" text NOT NULL,
	"kind" text NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"requested_by" text NOT NULL,
	"input" jsonb NOT NULL,
	"result" jsonb,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"idempotency_key" text,
	"request_hash" text,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "operations_kind_check" CHECK ("operations"."kind" in ('provision_user', 'reset_password', 'add_domain', 'verify_domain')),
	CONSTRAINT "operations_state_check" CHECK ("operations"."state" in ('queued', 'running', 'succeeded', 'failed', 'rejected'))
);
--> statement-breakpoint
ALTER TABLE "domains" ADD CONSTRAINT "domains_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_delegation_id_delegations_id_fk" FOREIGN KEY ("delegation_id") REFERENCES "public"."delegations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "domains_org_name_unique" ON "domains" USING btree ("org_id","name");--> statement-breakpoint
CREATE INDEX "operations_partner_state_idx" ON "operations" USING btree ("partner_id","state","id");--> statement-breakpoint
CREATE INDEX "operations_delegation_idx" ON "operations" USING btree ("delegation_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "operations_idempotency_unique" ON "operations" USING btree ("requested_by","idempotency_key") WHERE "operations"."idempotency_key" is not null;
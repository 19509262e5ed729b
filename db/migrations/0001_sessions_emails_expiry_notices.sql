CREATE TABLE "emails" (
	"id" text PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"kind" text NOT NULL,
	"delegation_id" text,
	"to_email" text NOT NULL,
	"subject" text NOT NULL,
	"text_body" text NOT NULL,
	"html_body" text NOT NULL,
	"message_id" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "emails_state_check" CHECK ("emails"."state" in ('pending', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "expiry_notices" (
	"delegation_id" text NOT NULL,
	"threshold_days" integer NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "expiry_notices_delegation_id_threshold_days_ends_at_pk" PRIMARY KEY("delegation_id","threshold_days","ends_at")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "emails_dedupe_unique" ON "emails" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "emails_delegation_idx" ON "emails" USING btree ("delegation_id");--> statement-breakpoint
CREATE INDEX "emails_pending_idx" ON "emails" USING btree ("created_at") WHERE "emails"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "delegations_active_ends_idx" ON "delegations" USING btree ("ends_at") WHERE "delegations"."state" = 'active';--> statement-breakpoint
CREATE INDEX "delegations_offered_at_idx" ON "delegations" USING btree ("offered_at") WHERE "delegations"."state" = 'offered';--> statement-breakpoint
CREATE INDEX "delegations_client_idx" ON "delegations" USING btree ("client_org_id");
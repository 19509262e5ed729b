-- Amendments (issue 13): proposed changes to active delegations, and the personal links the
-- client's global admins answer them by (only the tokens' SHA-256 is kept).
CREATE TABLE "amendment_links" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"amendment_id" text NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "amendments" (
	"id" text PRIMARY KEY NOT NULL,
	"delegation_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"client_org_id" text NOT NULL,
	"kind" text NOT NULL,
	"state" text NOT NULL,
	"add_roles" text[] DEFAULT '{}' NOT NULL,
	"remove_roles" text[] DEFAULT '{}' NOT NULL,
	"extend_days" integer,
	"auto_extend" boolean,
	"before" jsonb NOT NULL,
	"after" jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"request_id" text,
	"expires_at" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"answered_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "amendments_state_check" CHECK ("amendments"."state" in ('pending', 'applied', 'declined', 'expired', 'cancelled')),
	CONSTRAINT "amendments_kind_check" CHECK ("amendments"."kind" in ('reduction', 'addition')),
	CONSTRAINT "amendments_reduction_applied_check" CHECK ("amendments"."kind" = 'addition' or "amendments"."state" = 'applied'),
	CONSTRAINT "amendments_addition_expiry_check" CHECK ("amendments"."kind" = 'reduction' or "amendments"."expires_at" is not null),
	CONSTRAINT "amendments_roles_check" CHECK ("amendments"."add_roles" <@ array['directory_reader', 'password_admin', 'helpdesk_admin', 'user_admin', 'domain_admin', 'privileged_auth_admin', 'global_admin']::text[] and "amendments"."remove_roles" <@ array['directory_reader', 'password_admin', 'helpdesk_admin', 'user_admin', 'domain_admin', 'privileged_auth_admin', 'global_admin']::text[]),
	CONSTRAINT "amendments_extend_days_check" CHECK ("amendments"."extend_days" is null or "amendments"."extend_days" between 1 and 730)
);
--> statement-breakpoint
ALTER TABLE "amendment_links" ADD CONSTRAINT "amendment_links_amendment_id_amendments_id_fk" FOREIGN KEY ("amendment_id") REFERENCES "public"."amendments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "amendment_links" ADD CONSTRAINT "amendment_links_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "amendments" ADD CONSTRAINT "amendments_delegation_id_delegations_id_fk" FOREIGN KEY ("delegation_id") REFERENCES "public"."delegations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "amendments" ADD CONSTRAINT "amendments_partner_id_organizations_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "amendments" ADD CONSTRAINT "amendments_client_org_id_organizations_id_fk" FOREIGN KEY ("client_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "amendments" ADD CONSTRAINT "amendments_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "amendments" ADD CONSTRAINT "amendments_answered_by_users_id_fk" FOREIGN KEY ("answered_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "amendment_links_amendment_idx" ON "amendment_links" USING btree ("amendment_id");--> statement-breakpoint
CREATE INDEX "amendments_delegation_idx" ON "amendments" USING btree ("delegation_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "amendments_one_pending_per_delegation" ON "amendments" USING btree ("delegation_id") WHERE "amendments"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "amendments_pending_expiry_idx" ON "amendments" USING btree ("expires_at") WHERE "amendments"."state" = 'pending';
CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "delegations_partner_offered_idx" ON "delegations" USING btree ("partner_id","offered_at");--> statement-breakpoint
CREATE INDEX "delegations_partner_accepted_idx" ON "delegations" USING btree ("partner_id","accepted_at");
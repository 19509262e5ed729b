ALTER TABLE "campaigns" DROP CONSTRAINT "campaigns_offer_id_offers_id_fk";
--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "rejected_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "delegations" ADD COLUMN "send_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "emails" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_offer_id_partner_id_offers_id_partner_id_fk" FOREIGN KEY ("offer_id","partner_id") REFERENCES "public"."offers"("id","partner_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "delegations_offer_state_idx" ON "delegations" USING btree ("offer_id","state");
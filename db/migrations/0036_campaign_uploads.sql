CREATE TABLE "campaign_uploads" (
	"id" text PRIMARY KEY NOT NULL,
	"partner_id" text NOT NULL,
	"offer_id" text NOT NULL,
	"name" text,
	"file_name" text,
	"recipients" jsonb NOT NULL,
	"valid" integer NOT NULL,
	"rejected" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"campaign_id" text
);
--> statement-breakpoint
ALTER TABLE "campaign_uploads" ADD CONSTRAINT "campaign_uploads_partner_id_organizations_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_uploads" ADD CONSTRAINT "campaign_uploads_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_uploads" ADD CONSTRAINT "campaign_uploads_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_uploads" ADD CONSTRAINT "campaign_uploads_offer_id_partner_id_offers_id_partner_id_fk" FOREIGN KEY ("offer_id","partner_id") REFERENCES "public"."offers"("id","partner_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaign_uploads_expires_idx" ON "campaign_uploads" USING btree ("expires_at");
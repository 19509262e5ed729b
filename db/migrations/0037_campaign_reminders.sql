CREATE TABLE "campaign_reminders" (
	"campaign_id" text NOT NULL,
	"number" integer NOT NULL,
	"after_days" integer NOT NULL,
	"offered_before" timestamp with time zone NOT NULL,
	"recipients" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"recorded_at" timestamp with time zone,
	CONSTRAINT "campaign_reminders_campaign_id_number_pk" PRIMARY KEY("campaign_id","number"),
	CONSTRAINT "campaign_reminders_number_check" CHECK ("campaign_reminders"."number" >= 1)
);
--> statement-breakpoint
ALTER TABLE "campaign_reminders" ADD CONSTRAINT "campaign_reminders_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_reminders" ADD CONSTRAINT "campaign_reminders_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaign_reminders_unrecorded_idx" ON "campaign_reminders" USING btree ("created_at") WHERE "campaign_reminders"."recorded_at" is null;
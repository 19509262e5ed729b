CREATE TABLE "digest_weeks" (
	"week_start" date PRIMARY KEY NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "weekly_digest" boolean DEFAULT true NOT NULL;
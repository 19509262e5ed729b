CREATE TABLE "partner_send_turns" (
	"partner_id" text PRIMARY KEY NOT NULL,
	"turn" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "send_chunks" (
	"campaign_id" text NOT NULL,
	"chunk" integer NOT NULL,
	"partner_id" text NOT NULL,
	"recipients" integer NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"lease_holder" text,
	"done_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "send_chunks_campaign_id_chunk_pk" PRIMARY KEY("campaign_id","chunk")
);
--> statement-breakpoint
CREATE TABLE "send_pace" (
	"id" integer PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "worker_processes" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"beat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delegations" ADD COLUMN "send_chunk" integer;--> statement-breakpoint
ALTER TABLE "delegations" ADD COLUMN "send_lease_holder" text;--> statement-breakpoint
ALTER TABLE "delegations" ADD COLUMN "send_interruptions" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "partner_send_turns" ADD CONSTRAINT "partner_send_turns_partner_id_organizations_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "send_chunks" ADD CONSTRAINT "send_chunks_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "send_chunks" ADD CONSTRAINT "send_chunks_partner_id_organizations_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "send_chunks_pending_idx" ON "send_chunks" USING btree ("partner_id","campaign_id","chunk") WHERE "send_chunks"."done_at" is null;--> statement-breakpoint
CREATE INDEX "worker_processes_beat_idx" ON "worker_processes" USING btree ("beat_at");
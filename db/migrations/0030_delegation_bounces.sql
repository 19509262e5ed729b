CREATE TABLE "delegation_bounces" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "delegation_bounces_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delegation_id" text NOT NULL,
	"report_key" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"action" text,
	"diagnostic" text,
	"reporting_mta" text,
	"remote_mta" text,
	"failed_delegation" boolean DEFAULT false NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delegation_bounces_kind_check" CHECK ("delegation_bounces"."kind" in ('permanent', 'delayed'))
);
--> statement-breakpoint
ALTER TABLE "delegation_bounces" ADD CONSTRAINT "delegation_bounces_delegation_id_delegations_id_fk" FOREIGN KEY ("delegation_id") REFERENCES "public"."delegations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "delegation_bounces_report_unique" ON "delegation_bounces" USING btree ("delegation_id","report_key");
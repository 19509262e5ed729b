CREATE TABLE "send_turn_clock" (
	"id" integer PRIMARY KEY NOT NULL,
	"turn" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delegations" ADD COLUMN "send_attempts_base" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
INSERT INTO "send_turn_clock" ("id", "turn") VALUES (1, 0) ON CONFLICT DO NOTHING;

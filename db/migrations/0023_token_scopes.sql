-- API tokens get scopes, an expiry and a last use. Tokens that exist already keep working
-- as they did: every scope (their holder's access of the moment still limits them, as
-- before) and an expiry 90 days from this migration — not from their creation, so no one
-- is cut off at deploy.
ALTER TABLE "api_tokens" ADD COLUMN "scopes" text[] NOT NULL DEFAULT array['read', 'offers:write', 'campaigns:write', 'delegations:write', 'operations:write', 'staff:write', 'webhooks:write']::text[];--> statement-breakpoint
ALTER TABLE "api_tokens" ALTER COLUMN "scopes" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" timestamp with time zone DEFAULT now() + interval '90 days' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "api_tokens_org_idx" ON "api_tokens" USING btree ("org_id");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_scopes_check" CHECK (cardinality("api_tokens"."scopes") > 0 and "api_tokens"."scopes" <@ array['read', 'offers:write', 'campaigns:write', 'delegations:write', 'operations:write', 'staff:write', 'webhooks:write']::text[]);

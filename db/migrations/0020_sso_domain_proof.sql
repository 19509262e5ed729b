DROP INDEX "sso_providers_domain_unique";--> statement-breakpoint
ALTER TABLE "sso_providers" ADD COLUMN "domain_verified_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "sso_providers_domain_unique" ON "sso_providers" USING btree (lower("email_domain")) WHERE "sso_providers"."domain_verified_at" is not null;
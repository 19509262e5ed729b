-- mandate:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS "delegations_send_chunk_idx" ON "delegations" USING btree ("campaign_id","send_chunk","id") WHERE "delegations"."state" = 'invited';

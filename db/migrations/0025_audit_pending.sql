-- An operation in flight when this runs was asked for in the old way (a row for the asking,
-- then rows for its changes and its outcome): its newest asking row — the first request, or
-- the retry that queued it again — becomes its pending row, which the worker then brings to
-- its outcome (services/audit/operation-trail.ts). Earlier asking rows keep what they said.
UPDATE "audit_events" a
SET "action" = CASE WHEN a."action" LIKE 'operation.request.%' THEN 'operation.' || o."kind" ELSE a."action" END,
    "outcome" = 'pending'
FROM "operations" o
WHERE a."target_type" = 'operation' AND a."target_id" = o."id" AND o."state" IN ('queued', 'running')
  AND a."id" = (
    SELECT max(b."id") FROM "audit_events" b
    WHERE b."target_type" = 'operation' AND b."target_id" = o."id"
      AND b."action" IN ('operation.request.' || o."kind", 'operation.retry.' || o."kind")
  );

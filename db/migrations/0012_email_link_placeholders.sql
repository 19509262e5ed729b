-- Links with a key (a delegation's end link, an amendment's personal link) are no longer
-- kept in the emails' bodies (docs/adr/0002): each is a placeholder there, listed in `links`,
-- and the worker derives the URL from LINK_SECRET as it sends (services/mail/derived-links.ts).
ALTER TABLE "emails" ADD COLUMN "links" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- Emails recorded before this: their keyed links become placeholders too, so that the table
-- keeps no key, and a pending one still goes out with a working link. Only the links the
-- templates wrote are taken, found by their HTML anchor (which no escaped name can produce),
-- and replaced as plain strings in both parts; the text part has the URL unescaped.
UPDATE "emails" e
SET "text_body" = replace(e."text_body", f.url_text, f.placeholder),
    "html_body" = replace(e."html_body", f.url_html, f.placeholder),
    "links" = e."links" || jsonb_build_object(f.placeholder, jsonb_build_object('kind', 'end', 'delegationId', f.delegation_id))
FROM (
  SELECT id, m[1] AS url_html, m[2] AS delegation_id,
    replace(replace(replace(replace(replace(m[1], '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&amp;', '&') AS url_text,
    '{{link:end:' || replace(gen_random_uuid()::text, '-', '') || '}}' AS placeholder
  FROM (
    SELECT id, regexp_match("html_body", '<a href="([^"]*/end/(dlg_[0-9a-f]{32})/[A-Za-z0-9_-]{43})">End this delegation</a>') AS m
    FROM "emails"
  ) found
  WHERE m IS NOT NULL
) f
WHERE e.id = f.id;--> statement-breakpoint
-- The personal amendment links: who each was for is in `amendment_links`, by the token's
-- SHA-256 (a token without a row there leads nowhere and is left as it is).
UPDATE "emails" e
SET "text_body" = replace(e."text_body", f.url_text, f.placeholder),
    "html_body" = replace(e."html_body", f.url_html, f.placeholder),
    "links" = e."links" || jsonb_build_object(f.placeholder, jsonb_build_object('kind', 'amendment', 'amendmentId', f.amendment_id, 'userId', f.user_id))
FROM (
  SELECT found.id, m[1] AS url_html, l."amendment_id", l."user_id",
    replace(replace(replace(replace(replace(m[1], '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&amp;', '&') AS url_text,
    '{{link:amendment:' || replace(gen_random_uuid()::text, '-', '') || '}}' AS placeholder
  FROM (
    SELECT id, regexp_match("html_body", '<a href="([^"]*/amendments/([A-Za-z0-9_-]{43}))">See the change and answer</a>') AS m
    FROM "emails"
  ) found
  JOIN "amendment_links" l ON l."token_hash" = encode(sha256(convert_to(m[2], 'UTF8')), 'hex')
  WHERE m IS NOT NULL
) f
WHERE e.id = f.id;

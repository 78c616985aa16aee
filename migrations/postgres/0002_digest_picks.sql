-- The picks of a digest become one JSON value on its row ([paper id, score, topic, matched terms],
-- best first) instead of a row per paper: a send writes one value, not a hundred rows.
ALTER TABLE "digests" ADD COLUMN "picks" text;--> statement-breakpoint
UPDATE "digests" d SET "picks" = p.picks FROM (
  SELECT digest_id, json_agg(json_build_array(paper_id, score, topic, matched::json) ORDER BY position)::text AS picks
  FROM "digest_papers" GROUP BY digest_id
) p WHERE p.digest_id = d.id;--> statement-breakpoint
DROP TABLE "digest_papers" CASCADE;

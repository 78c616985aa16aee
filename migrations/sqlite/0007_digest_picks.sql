-- The picks of a digest become one JSON value on its row ([paper id, score, topic, matched terms],
-- best first) instead of a row per paper: a send writes one value, not a hundred rows.
ALTER TABLE `digests` ADD `picks` text;--> statement-breakpoint
UPDATE `digests` SET `picks` = (
  SELECT json_group_array(json_array(dp.paper_id, dp.score, dp.topic, json(dp.matched)) ORDER BY dp.position)
  FROM `digest_papers` dp WHERE dp.digest_id = `digests`.id
) WHERE EXISTS (SELECT 1 FROM `digest_papers` dp WHERE dp.digest_id = `digests`.id);--> statement-breakpoint
DROP TABLE `digest_papers`;

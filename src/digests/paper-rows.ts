import type { Db } from '../db/client.js';
import { rowToPaper } from '../papers/store.js';
import type { DigestPick } from './select.js';

/** The picks stored with a digest, in their order, with the papers as they are now. */
export function storedDigestPicks(db: Db, digestId: number): DigestPick[] {
  const rows = db.$client
    .prepare(
      `select p.*, dp.score as pick_score, dp.topic as pick_topic, dp.matched as pick_matched
       from digest_papers dp join papers p on p.id = dp.paper_id where dp.digest_id = ? order by dp.position`,
    )
    .all(digestId) as Record<string, unknown>[];
  return rows.map((row) => ({
    paper: rowToPaper(row),
    score: row.pick_score as number,
    topic: (row.pick_topic as string | null) ?? undefined,
    matched: JSON.parse(row.pick_matched as string) as string[],
  }));
}

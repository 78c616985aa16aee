import type { Db } from '../db/client.js';
import { sql } from '../db/sql.js';
import { paperColumns, rowToPaper } from '../papers/store.js';
import type { DigestPick } from './select.js';

/** The picks stored with a digest, in their order, with the papers as they are now. */
export async function storedDigestPicks(db: Db, digestId: number): Promise<DigestPick[]> {
  const rows = await db.all(sql`
    select ${paperColumns}, dp.score as pick_score, dp.topic as pick_topic, dp.matched as pick_matched
    from digest_papers dp join papers p on p.id = dp.paper_id where dp.digest_id = ${digestId} order by dp.position`);
  return rows.map((row) => ({
    paper: rowToPaper(row),
    score: row.pick_score as number,
    topic: (row.pick_topic as string | null) ?? undefined,
    matched: JSON.parse(row.pick_matched as string) as string[],
  }));
}

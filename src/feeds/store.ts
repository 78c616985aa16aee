import { type Db, inList } from '../db/client.js';
import type { Paper } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { parseStoredPicks } from '../digests/paper-rows.js';
import { paperColumns, rowToPaper } from '../papers/store.js';
import type { FeedEntry } from './feed-document.js';

/**
 * The papers of a reader's newest delivered digests (emailed or published to the feed), newest digest
 * first and each digest's papers in its order, at most `limit`: each paper once, as "never send twice"
 * already holds, dated by the digest that carried it.
 */
export async function deliveredEntries(
  db: Db,
  subscriberId: number,
  options: { since: Date; limit: number },
): Promise<FeedEntry[]> {
  const digests = await db.all<{ sentAt: number; picks: string | null }>(sql`
    select sent_at as "sentAt", picks from digests
    where subscriber_id = ${subscriberId} and status in ('sent', 'published') and sent_at >= ${options.since}
    order by sent_at desc limit ${options.limit}`);
  const wanted = digests
    .flatMap((digest) =>
      parseStoredPicks(digest.picks).map(([paperId, , topic, matched]) => ({
        paperId,
        topic,
        matched,
        updated: new Date(digest.sentAt),
      })),
    )
    .slice(0, options.limit);
  if (wanted.length === 0) return [];
  const rows = await db.all(
    sql`select ${paperColumns} from papers p where p.id ${inList(
      db,
      wanted.map((pick) => pick.paperId),
    )}`,
  );
  const papers = new Map<number, Paper>(rows.map((row) => [row.id as number, rowToPaper(row)]));
  // A paper deleted since is left out.
  return wanted.flatMap((pick) => {
    const paper = papers.get(pick.paperId);
    return paper
      ? [{ paper, updated: pick.updated, topic: pick.topic ?? undefined, matched: pick.matched }]
      : [];
  });
}

import { type Db, inList } from '../db/client.js';
import type { StoredPick } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { paperColumns, rowToPaper } from '../papers/store.js';
import type { DigestPick } from './select.js';

/** The picks as the digest row stores them (`digests.picks`). */
export const storedPicksJson = (picks: readonly DigestPick[]): string =>
  JSON.stringify(
    picks.map((pick): StoredPick => [pick.paper.id, pick.score, pick.topic ?? null, pick.matched]),
  );

export const parseStoredPicks = (json: string | null | undefined): StoredPick[] =>
  json ? (JSON.parse(json) as StoredPick[]) : [];

/** The picks stored with a digest, in their order, with the papers as they are now. */
export async function storedDigestPicks(db: Db, digestId: number): Promise<DigestPick[]> {
  const stored = parseStoredPicks(
    await db.value<string>(sql`select picks from digests where id = ${digestId}`),
  );
  if (stored.length === 0) return [];
  const rows = await db.all(
    sql`select ${paperColumns} from papers p where p.id ${inList(
      db,
      stored.map(([paperId]) => paperId),
    )}`,
  );
  const papers = new Map(rows.map((row) => [row.id as number, rowToPaper(row)]));
  // A paper deleted since the digest was sent is left out.
  return stored.flatMap(([paperId, score, topic, matched]) => {
    const paper = papers.get(paperId);
    return paper ? [{ paper, score, topic: topic ?? undefined, matched }] : [];
  });
}

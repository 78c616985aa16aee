import type { Db } from '../db/client.js';
import { type FeedbackKind, feedbackValues, type Paper } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { paperColumns, rowToPaper } from '../papers/store.js';

/** One "more / less like this", as the manage page, `/api/me` and the export show it. */
export interface FeedbackEntry {
  arxivId: string;
  title: string;
  kind: FeedbackKind;
  /** When it was given, ISO 8601. */
  at: string;
}

const kindOf = (value: number): FeedbackKind => (value > 0 ? 'more' : 'less');

/** Records a click; a later click on the same paper replaces the earlier one. */
export async function upsertFeedback(
  db: Db,
  entry: { subscriberId: number; paperId: number; kind: FeedbackKind; digestId: number; at: Date },
): Promise<void> {
  const value = feedbackValues[entry.kind];
  await db.run(sql`insert into paper_feedback (subscriber_id, paper_id, value, digest_id, created_at)
    values (${entry.subscriberId}, ${entry.paperId}, ${value}, ${entry.digestId}, ${entry.at})
    on conflict (subscriber_id, paper_id) do update set value = excluded.value,
      digest_id = excluded.digest_id, created_at = excluded.created_at`);
}

/** The reader's current feedback on one paper, if any. */
export async function findFeedback(
  db: Db,
  subscriberId: number,
  paperId: number,
): Promise<FeedbackKind | undefined> {
  const value = await db.value<number>(
    sql`select value from paper_feedback where subscriber_id = ${subscriberId} and paper_id = ${paperId}`,
  );
  return value === undefined ? undefined : kindOf(value);
}

/** Removes the reader's feedback on one paper (by arXiv id); how many rows went (0 or 1). */
export async function deleteFeedback(db: Db, subscriberId: number, arxivId: string): Promise<number> {
  return db.run(sql`delete from paper_feedback where subscriber_id = ${subscriberId}
    and paper_id in (select id from papers where arxiv_id = ${arxivId})`);
}

/** Removes all of the reader's feedback; how many rows went. */
export async function clearFeedback(db: Db, subscriberId: number): Promise<number> {
  return db.run(sql`delete from paper_feedback where subscriber_id = ${subscriberId}`);
}

/** The reader's feedback, newest first. */
export async function listFeedback(db: Db, subscriberId: number): Promise<FeedbackEntry[]> {
  const rows = await db.all<{ arxivId: string; title: string; value: number; at: number }>(
    sql`select p.arxiv_id as "arxivId", p.title, f.value, f.created_at as at
      from paper_feedback f join papers p on p.id = f.paper_id
      where f.subscriber_id = ${subscriberId} order by f.created_at desc, f.id desc`,
  );
  return rows.map((row) => ({
    arxivId: row.arxivId,
    title: row.title,
    kind: kindOf(row.value),
    at: new Date(Number(row.at)).toISOString(),
  }));
}

/** Re-ranking reads at most this many of a reader's latest feedback. */
export const feedbackReadLimit = 50;

/** The papers the reader gave feedback on, newest first, as re-ranking reads them. */
export async function feedbackPapers(
  db: Db,
  subscriberId: number,
): Promise<{ kind: FeedbackKind; paper: Paper }[]> {
  const rows = await db.all(sql`select f.value as feedback_value, ${paperColumns}
    from paper_feedback f join papers p on p.id = f.paper_id
    where f.subscriber_id = ${subscriberId} order by f.created_at desc, f.id desc limit ${feedbackReadLimit}`);
  return rows.map((row) => ({ kind: kindOf(row.feedback_value as number), paper: rowToPaper(row) }));
}

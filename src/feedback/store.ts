import { type Db, inList } from '../db/client.js';
import { type FeedbackKind, feedbackValues, type LikedPaperStatus, type Paper } from '../db/schema.js';
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

/** Removes the reader's feedback on one paper (by arXiv id), or all of it; how many rows went. */
export async function deleteFeedback(db: Db, subscriberId: number, arxivId?: string): Promise<number> {
  if (arxivId === undefined)
    return db.run(sql`delete from paper_feedback where subscriber_id = ${subscriberId}`);
  return db.run(sql`delete from paper_feedback where subscriber_id = ${subscriberId}
    and paper_id in (select id from papers where arxiv_id = ${arxivId})`);
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

/** A reader's liked paper, as the manage page, `/api/me` and the export show it. */
export interface LikedPaperEntry {
  arxivId: string;
  /** Unknown until arXiv has answered for a `pending` paper. */
  title: string | null;
  status: LikedPaperStatus;
  at: string;
}

/** Adds liked papers; returns the arXiv ids that were new (the others were already there). */
export async function insertLikedPapers(
  db: Db,
  subscriberId: number,
  rows: readonly { arxivId: string; paperId: number | null }[],
  at: Date,
): Promise<Set<string>> {
  const added = new Set<string>();
  for (let start = 0; start < rows.length; start += 500) {
    const values = rows
      .slice(start, start + 500)
      .map(
        (row) =>
          sql`(${subscriberId}, ${row.arxivId}, ${row.paperId}, ${row.paperId === null ? 'pending' : 'found'}, ${at})`,
      );
    const ids =
      await db.column<string>(sql`insert into liked_papers (subscriber_id, arxiv_id, paper_id, status, created_at)
      values ${sql.join(values)} on conflict (subscriber_id, arxiv_id) do nothing returning arxiv_id`);
    for (const id of ids) added.add(id);
  }
  return added;
}

/** The reader's liked papers, newest first. */
export async function listLikedPapers(db: Db, subscriberId: number): Promise<LikedPaperEntry[]> {
  const rows = await db.all<{ arxivId: string; title: string | null; status: LikedPaperStatus; at: number }>(
    sql`select l.arxiv_id as "arxivId", p.title, l.status, l.created_at as at
      from liked_papers l left join papers p on p.id = l.paper_id
      where l.subscriber_id = ${subscriberId} order by l.created_at desc, l.id desc`,
  );
  return rows.map((row) => ({ ...row, at: new Date(Number(row.at)).toISOString() }));
}

/** Removes one liked paper (by arXiv id), or all of them; how many rows went. */
export async function deleteLikedPapers(db: Db, subscriberId: number, arxivId?: string): Promise<number> {
  if (arxivId === undefined)
    return db.run(sql`delete from liked_papers where subscriber_id = ${subscriberId}`);
  return db.run(
    sql`delete from liked_papers where subscriber_id = ${subscriberId} and arxiv_id = ${arxivId}`,
  );
}

/** arXiv ids some reader liked that are not in `papers` yet, oldest first. */
export async function pendingLikedIds(db: Db, limit: number): Promise<string[]> {
  return db.column<string>(sql`select arxiv_id from liked_papers where status = 'pending'
    group by arxiv_id order by min(id) limit ${limit}`);
}

/** Links every pending row of these arXiv ids to its paper now stored, or marks it `missing`. */
export async function settleLikedPapers(db: Db, arxivIds: readonly string[]): Promise<void> {
  if (arxivIds.length === 0) return;
  await db.run(sql`update liked_papers set paper_id = (select id from papers where papers.arxiv_id = liked_papers.arxiv_id),
      status = case when exists (select 1 from papers where papers.arxiv_id = liked_papers.arxiv_id) then 'found' else 'missing' end
    where status = 'pending' and arxiv_id ${inList(db, arxivIds)}`);
}

/** The reader's liked papers that are stored, newest first: they rank like "more like this". */
export async function likedPapersForRanking(db: Db, subscriberId: number): Promise<Paper[]> {
  const rows = await db.all(sql`select ${paperColumns} from liked_papers l join papers p on p.id = l.paper_id
    where l.subscriber_id = ${subscriberId} order by l.created_at desc, l.id desc limit ${feedbackReadLimit}`);
  return rows.map(rowToPaper);
}

/** How many liked papers the reader keeps. */
export async function countLikedPapers(db: Db, subscriberId: number): Promise<number> {
  return (
    (await db.value<number>(sql`select count(*) from liked_papers where subscriber_id = ${subscriberId}`)) ??
    0
  );
}

/**
 * What a reader's digest learns from: their newest clicks, then their newest liked papers, which
 * count as "more like this" (`feedback`); and the liked papers alone, a topic of their own (`liked`).
 */
export async function readerRanking(
  db: Db,
  subscriberId: number,
): Promise<{ feedback: { kind: FeedbackKind; paper: Paper }[]; liked: Paper[] }> {
  const [clicks, liked] = await Promise.all([
    feedbackPapers(db, subscriberId),
    likedPapersForRanking(db, subscriberId),
  ]);
  return { feedback: [...clicks, ...liked.map((paper) => ({ kind: 'more' as const, paper }))], liked };
}

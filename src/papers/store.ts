import { type Db, inList } from '../db/client.js';
import type { Paper, PaperSource } from '../db/schema.js';
import { sql } from '../db/sql.js';
import type { MatchablePaper } from '../topics/match.js';
import type { PaperRecord } from './normalize.js';

/** Every column of `papers` but PostgreSQL's search vector, as `rowToPaper` reads them. */
export const paperColumns =
  sql.raw(`p.id, p.arxiv_id, p.title, p.abstract, p.authors, p.categories, p.published_at,
  p.upvotes, p.ai_summary, p.ai_keywords, p.github_repo, p.project_page, p.thumbnail, p.source, p.first_seen_at,
  p.updated_at`);

export interface UpsertResult {
  inserted: number;
  updated: number;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/**
 * Inserts new papers and refreshes known ones in one transaction. A field the source did not provide
 * keeps its stored value (arXiv has no upvotes, HF no categories); `first_seen_at` is never touched.
 * A row only counts as updated when something in it actually changed.
 */
export async function upsertPapers(
  db: Db,
  records: readonly PaperRecord[],
  source: PaperSource,
  now: Date,
): Promise<UpsertResult> {
  // The same paper twice in one batch (v1 and v2): the later record wins.
  const unique = [...new Map(records.map((record) => [record.arxivId, record])).values()];
  return db.transaction(async (tx) => {
    const ids = unique.map((record) => record.arxivId);
    const known = new Set(
      await tx.column<string>(sql`select arxiv_id from papers where arxiv_id ${inList(tx, ids)}`),
    );
    const result: UpsertResult = { inserted: 0, updated: 0 };
    for (const record of unique) {
      const changes = await tx.run(upsertPaper(record, source, now));
      if (!known.has(record.arxivId)) result.inserted += 1;
      else if (changes > 0) result.updated += 1;
    }
    return result;
  });
}

/**
 * Values that keep the stored one when absent appear several times: each is bound again where it
 * appears (positional values keep the compiled text and SQLite's binding cheap on this hot path).
 */
function upsertPaper(record: PaperRecord, source: PaperSource, now: Date) {
  const categories = json(record.categories);
  const upvotes = record.upvotes ?? null;
  const aiSummary = record.aiSummary ?? null;
  const aiKeywords = json(record.aiKeywords);
  const githubRepo = record.githubRepo ?? null;
  const projectPage = record.projectPage ?? null;
  const thumbnail = record.thumbnail ?? null;
  return sql`
    insert into papers (arxiv_id, title, abstract, authors, categories, published_at, upvotes, ai_summary,
      ai_keywords, github_repo, project_page, thumbnail, source, first_seen_at, updated_at)
    values (${record.arxivId}, ${record.title}, ${record.abstract}, ${json(record.authors)},
      coalesce(${categories}, '[]'), ${record.publishedAt}, coalesce(${upvotes}, 0), ${aiSummary}, ${aiKeywords},
      ${githubRepo}, ${projectPage}, ${thumbnail}, ${source}, ${now}, ${now})
    on conflict (arxiv_id) do update set
      title = excluded.title,
      abstract = excluded.abstract,
      authors = excluded.authors,
      categories = coalesce(${categories}, papers.categories),
      published_at = excluded.published_at,
      upvotes = coalesce(${upvotes}, papers.upvotes),
      ai_summary = coalesce(${aiSummary}, papers.ai_summary),
      ai_keywords = coalesce(${aiKeywords}, papers.ai_keywords),
      github_repo = coalesce(${githubRepo}, papers.github_repo),
      project_page = coalesce(${projectPage}, papers.project_page),
      thumbnail = coalesce(${thumbnail}, papers.thumbnail),
      updated_at = ${now}
    where papers.title is distinct from excluded.title
      or papers.abstract is distinct from excluded.abstract
      or papers.authors is distinct from excluded.authors
      or papers.categories is distinct from coalesce(${categories}, papers.categories)
      or papers.published_at is distinct from excluded.published_at
      or papers.upvotes is distinct from coalesce(${upvotes}, papers.upvotes)
      or papers.ai_summary is distinct from coalesce(${aiSummary}, papers.ai_summary)
      or papers.ai_keywords is distinct from coalesce(${aiKeywords}, papers.ai_keywords)
      or papers.github_repo is distinct from coalesce(${githubRepo}, papers.github_repo)
      or papers.project_page is distinct from coalesce(${projectPage}, papers.project_page)
      or papers.thumbnail is distinct from coalesce(${thumbnail}, papers.thumbnail)`;
}

/** One ingestion run, as the operator's views and metrics read it. */
export async function recordIngestRun(
  db: Db,
  run: {
    source: string;
    startedAt: Date;
    finishedAt: Date;
    status: 'ok' | 'failed';
    inserted?: number;
    updated?: number;
    rejected?: number;
    error?: string;
    /** The day a dated source was asked for, YYYY-MM-DD. */
    date?: string;
    /** An `arxiv:` source's newest submission read. */
    newestSubmittedAt?: Date;
  },
): Promise<void> {
  await db.run(sql`insert into ingest_runs (source, started_at, finished_at, status, inserted, updated, rejected,
      error, date, newest_submitted_at)
    values (${run.source}, ${run.startedAt}, ${run.finishedAt}, ${run.status}, ${run.inserted ?? 0},
      ${run.updated ?? 0}, ${run.rejected ?? 0}, ${run.error ?? null}, ${run.date ?? null},
      ${run.newestSubmittedAt ?? null})`);
}

/** The newest submission any successful run of this `arxiv:` source read; null before the first. */
export async function readNewestSubmission(db: Db, source: string): Promise<Date | null> {
  const newest = await db.value<number | string | null>(
    sql`select max(newest_submitted_at) from ingest_runs where source = ${source} and status = 'ok'`,
  );
  return newest === null || newest === undefined ? null : new Date(Number(newest));
}

/**
 * What a dated source has fetched: its newest successful date, and the dates on or after `since`
 * whose latest run failed. Runs recorded before dates were (no `date`) count by the UTC day they
 * finished, which is the date they asked for.
 */
export async function readDateHistory(
  db: Db,
  source: string,
  since: string,
): Promise<{ lastSuccess: string | null; failed: string[] }> {
  const [dated, undated, failed] = await Promise.all([
    db.value<string | null>(
      sql`select max(date) from ingest_runs where source = ${source} and status = 'ok' and date is not null`,
    ),
    db.value<number | null>(
      sql`select max(finished_at) from ingest_runs where source = ${source} and status = 'ok' and date is null`,
    ),
    db.column<string>(sql`select date from ingest_runs where status = 'failed' and id in (
      select max(id) from ingest_runs where source = ${source} and date >= ${since} group by date)
      order by date`),
  ]);
  const lastSuccess =
    dated ??
    (undated === null || undated === undefined ? null : new Date(Number(undated)).toISOString().slice(0, 10));
  return { lastSuccess, failed };
}

export interface PaperSearch {
  /** Words that must all occur (title, abstract, authors, keywords, categories), stemmed. */
  words?: string[];
  since?: Date;
  limit: number;
}

/**
 * Newest first (by publication, then by arrival). The words are data on both stores: each quoted for
 * FTS5, so its operators are plain text; one `plainto_tsquery` on PostgreSQL, which has no operators.
 */
export async function searchPapers(db: Db, search: PaperSearch): Promise<Paper[]> {
  const since = search.since ?? new Date(0);
  let match = sql``;
  if (search.words && search.words.length > 0) {
    if (db.dialect === 'postgres') {
      // Only stop words ("the"): no filter, as FTS5 (no stop words) would match nearly every paper.
      const query = sql.param(search.words.join(' '));
      match = sql`and (numnode(plainto_tsquery('english', ${query})) = 0
        or p.search @@ plainto_tsquery('english', ${query}))`;
    } else {
      const quoted = search.words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' ');
      match = sql`and p.id in (select rowid from papers_fts where papers_fts match ${quoted})`;
    }
  }
  const rows =
    await db.all(sql`select ${paperColumns} from papers p where p.first_seen_at >= ${since} ${match}
    order by p.published_at desc, p.id desc limit ${search.limit}`);
  return rows.map(rowToPaper);
}

/** The highest paper id: it changes whenever a paper arrives, so caches of papers compare it. */
export async function newestPaperId(db: Db): Promise<number> {
  return (await db.value<number>(sql`select coalesce(max(id), 0) from papers`)) ?? 0;
}

/** Papers first seen at or after `since`, newest arrivals first, at most `limit`. */
export async function papersFirstSeenSince(db: Db, since: Date, limit: number): Promise<Paper[]> {
  const rows = await db.all(sql`select ${paperColumns} from papers p where first_seen_at >= ${since}
    order by first_seen_at desc, id desc limit ${limit}`);
  return rows.map(rowToPaper);
}

/** Where a page of `matchablePapersPage` ended: the next page starts after this paper. */
export interface PaperCursor {
  firstSeenAt: number;
  id: number;
}

/** A paper as matching reads it, with what a preview answer shows of it. */
export interface MatchablePaperRow extends MatchablePaper {
  id: number;
  arxivId: string;
  firstSeenAt: number;
}

/**
 * One page of the papers first seen at or after `since`, newest arrivals first, after `cursor`, with
 * only the columns matching needs: for reading many papers in small steps (keyset paging on
 * `first_seen_at, id`) without holding the event loop for one long read.
 */
export async function matchablePapersPage(
  db: Db,
  since: Date,
  cursor: PaperCursor | undefined,
  limit: number,
): Promise<MatchablePaperRow[]> {
  const after = cursor ?? { firstSeenAt: Number.MAX_SAFE_INTEGER, id: 2 ** 31 - 1 }; // ids are 32-bit on PostgreSQL
  // One parameter for the cursor's instant, used twice, so that SQLite bounds the index range from
  // above too: with two copies every page scanned from `since` up (1.9 s instead of 0.1 s for 10,000).
  const seen = sql.param(after.firstSeenAt);
  const rows = await db.all(sql`
    select id, arxiv_id, title, abstract, authors, categories, ai_keywords, upvotes, published_at, first_seen_at
    from papers
    where first_seen_at >= ${since} and (first_seen_at < ${seen} or (first_seen_at = ${seen} and id < ${after.id}))
    order by first_seen_at desc, id desc limit ${limit}`);
  return rows.map((row) => ({
    id: row.id as number,
    arxivId: row.arxiv_id as string,
    firstSeenAt: row.first_seen_at as number,
    title: row.title as string,
    abstract: row.abstract as string,
    authors: JSON.parse(row.authors as string) as string[],
    categories: JSON.parse(row.categories as string) as string[],
    aiKeywords: row.ai_keywords === null ? null : (JSON.parse(row.ai_keywords as string) as string[]),
    upvotes: row.upvotes as number,
    publishedAt: new Date(row.published_at as number),
  }));
}

export function rowToPaper(row: Record<string, unknown>): Paper {
  const list = (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as string[]) : null);
  return {
    id: row.id as number,
    arxivId: row.arxiv_id as string,
    title: row.title as string,
    abstract: row.abstract as string,
    authors: list(row.authors) ?? [],
    categories: list(row.categories) ?? [],
    publishedAt: new Date(row.published_at as number),
    upvotes: row.upvotes as number,
    aiSummary: (row.ai_summary as string | null) ?? null,
    aiKeywords: list(row.ai_keywords),
    githubRepo: (row.github_repo as string | null) ?? null,
    projectPage: (row.project_page as string | null) ?? null,
    thumbnail: (row.thumbnail as string | null) ?? null,
    source: row.source as Paper['source'],
    firstSeenAt: new Date(row.first_seen_at as number),
    updatedAt: new Date(row.updated_at as number),
  };
}

/** The stored papers with these arXiv ids: arXiv id → row id. */
export async function paperIdsByArxivId(db: Db, arxivIds: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let start = 0; start < arxivIds.length; start += 1000) {
    const rows = await db.all<{ id: number; arxivId: string }>(
      sql`select id, arxiv_id as "arxivId" from papers where arxiv_id ${inList(db, arxivIds.slice(start, start + 1000))}`,
    );
    for (const row of rows) found.set(row.arxivId, row.id);
  }
  return found;
}

/** The stored papers with these arXiv ids, by arXiv id. */
export async function papersByArxivId(db: Db, arxivIds: readonly string[]): Promise<Map<string, Paper>> {
  const found = new Map<string, Paper>();
  for (let start = 0; start < arxivIds.length; start += 1000) {
    const rows = await db.all(
      sql`select ${paperColumns} from papers p where p.arxiv_id ${inList(db, arxivIds.slice(start, start + 1000))}`,
    );
    for (const paper of rows.map(rowToPaper)) found.set(paper.arxivId, paper);
  }
  return found;
}

/**
 * The stored papers with these titles, compared in lower case (SQLite lowers ASCII letters only): lower
 * title → its arXiv id and row id.
 */
export async function papersByTitle(
  db: Db,
  titles: readonly string[],
): Promise<Map<string, { id: number; arxivId: string }>> {
  const found = new Map<string, { id: number; arxivId: string }>();
  const lowered = [...new Set(titles.map((title) => title.toLowerCase()))];
  for (let start = 0; start < lowered.length; start += 1000) {
    const rows = await db.all<{ id: number; arxivId: string; title: string }>(
      sql`select id, arxiv_id as "arxivId", lower(title) as title from papers
        where lower(title) ${inList(db, lowered.slice(start, start + 1000))}`,
    );
    for (const row of rows) found.set(row.title, { id: row.id, arxivId: row.arxivId });
  }
  return found;
}

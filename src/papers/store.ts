import { type Db, prepared } from '../db/client.js';
import type { Paper, PaperSource } from '../db/schema.js';
import type { MatchablePaper } from '../topics/match.js';
import type { PaperRecord } from './normalize.js';

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
export function upsertPapers(
  db: Db,
  records: readonly PaperRecord[],
  source: PaperSource,
  now: Date,
): UpsertResult {
  const sqlite = db.$client;
  const exists = sqlite.prepare('select 1 from papers where arxiv_id = ?').pluck();
  const upsert = sqlite.prepare(`
    insert into papers (arxiv_id, title, abstract, authors, categories, published_at, upvotes, ai_summary,
      ai_keywords, github_repo, project_page, thumbnail, source, first_seen_at, updated_at)
    values (@arxivId, @title, @abstract, @authors, coalesce(@categories, '[]'), @publishedAt, coalesce(@upvotes, 0),
      @aiSummary, @aiKeywords, @githubRepo, @projectPage, @thumbnail, @source, @now, @now)
    on conflict (arxiv_id) do update set
      title = excluded.title,
      abstract = excluded.abstract,
      authors = excluded.authors,
      categories = coalesce(@categories, papers.categories),
      published_at = excluded.published_at,
      upvotes = coalesce(@upvotes, papers.upvotes),
      ai_summary = coalesce(@aiSummary, papers.ai_summary),
      ai_keywords = coalesce(@aiKeywords, papers.ai_keywords),
      github_repo = coalesce(@githubRepo, papers.github_repo),
      project_page = coalesce(@projectPage, papers.project_page),
      thumbnail = coalesce(@thumbnail, papers.thumbnail),
      updated_at = @now
    where papers.title is not excluded.title
      or papers.abstract is not excluded.abstract
      or papers.authors is not excluded.authors
      or papers.categories is not coalesce(@categories, papers.categories)
      or papers.published_at is not excluded.published_at
      or papers.upvotes is not coalesce(@upvotes, papers.upvotes)
      or papers.ai_summary is not coalesce(@aiSummary, papers.ai_summary)
      or papers.ai_keywords is not coalesce(@aiKeywords, papers.ai_keywords)
      or papers.github_repo is not coalesce(@githubRepo, papers.github_repo)
      or papers.project_page is not coalesce(@projectPage, papers.project_page)
      or papers.thumbnail is not coalesce(@thumbnail, papers.thumbnail)`);

  // The same paper twice in one batch (v1 and v2): the later record wins.
  const unique = [...new Map(records.map((record) => [record.arxivId, record])).values()];
  return sqlite
    .transaction(() => {
      const result: UpsertResult = { inserted: 0, updated: 0 };
      for (const record of unique) {
        const isKnown = exists.get(record.arxivId) !== undefined;
        const { changes } = upsert.run({
          arxivId: record.arxivId,
          title: record.title,
          abstract: record.abstract,
          authors: json(record.authors),
          categories: json(record.categories),
          publishedAt: record.publishedAt.getTime(),
          upvotes: record.upvotes ?? null,
          aiSummary: record.aiSummary ?? null,
          aiKeywords: json(record.aiKeywords),
          githubRepo: record.githubRepo ?? null,
          projectPage: record.projectPage ?? null,
          thumbnail: record.thumbnail ?? null,
          source,
          now: now.getTime(),
        });
        if (!isKnown) result.inserted += 1;
        else if (changes > 0) result.updated += 1;
      }
      return result;
    })
    .immediate();
}

export interface PaperSearch {
  /** Words that must all occur (title, abstract, authors, keywords, categories), stemmed. */
  words?: string[];
  since?: Date;
  limit: number;
}

/** Newest first (by publication, then by arrival). */
export function searchPapers(db: Db, search: PaperSearch): Paper[] {
  const params: Record<string, unknown> = { limit: search.limit, since: search.since?.getTime() ?? 0 };
  let match = '';
  if (search.words && search.words.length > 0) {
    // Each word quoted, so FTS5 operators in user input are plain text.
    params.match = search.words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' ');
    match = 'and p.id in (select rowid from papers_fts where papers_fts match @match)';
  }
  const rows = db.$client
    .prepare(
      `select * from papers p where p.first_seen_at >= @since ${match}
       order by p.published_at desc, p.id desc limit @limit`,
    )
    .all(params) as Record<string, unknown>[];
  return rows.map(rowToPaper);
}

/** Papers first seen at or after `since`, newest arrivals first, at most `limit`. */
export function papersFirstSeenSince(db: Db, since: Date, limit: number): Paper[] {
  const rows = db.$client
    .prepare('select * from papers where first_seen_at >= ? order by first_seen_at desc, id desc limit ?')
    .all(since.getTime(), limit) as Record<string, unknown>[];
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
export function matchablePapersPage(
  db: Db,
  since: Date,
  cursor: PaperCursor | undefined,
  limit: number,
): MatchablePaperRow[] {
  const after = cursor ?? { firstSeenAt: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
  // Named parameters, so that SQLite sees one :seen in both places and bounds the index range from
  // above too: with anonymous ones every page scanned from :since up (1.9 s instead of 0.1 s for
  // 10,000 papers).
  const rows = prepared(
    db,
    `select id, arxiv_id, title, abstract, authors, categories, ai_keywords, upvotes, published_at, first_seen_at
     from papers
     where first_seen_at >= :since and (first_seen_at < :seen or (first_seen_at = :seen and id < :id))
     order by first_seen_at desc, id desc limit :limit`,
  ).all({ since: since.getTime(), seen: after.firstSeenAt, id: after.id, limit }) as Record<
    string,
    unknown
  >[];
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

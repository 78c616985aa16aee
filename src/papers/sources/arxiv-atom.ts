import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FeedError, type FetchOptions, fetchFeed } from '../fetch-feed.js';
import type { PaperRecord, RawPaper } from '../normalize.js';
import { normalizeAll, type ParsedBatch } from './batch.js';

type Node = Record<string, unknown>;

// Entities stay as text here and are decoded once by normalize's cleanText; no DOCTYPE entity is
// ever expanded, so a hostile document cannot blow up memory.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['entry', 'author', 'category', 'link'].includes(name),
});

const textOf = (value: unknown): unknown =>
  typeof value === 'object' && value !== null && '#text' in value ? (value as Node)['#text'] : value;
const list = (value: unknown): Node[] => (Array.isArray(value) ? (value as Node[]) : []);

/** The arXiv listing feed (rss.arxiv.org) puts "arXiv:… Announce Type: new Abstract:" before the abstract. */
const stripListingPrefix = (summary: unknown) =>
  typeof summary === 'string'
    ? summary.replace(/^arXiv:\S+\s+Announce Type:\s*\S+\s+Abstract:\s*/s, '')
    : summary;

function entryToRaw(entry: Node): RawPaper {
  const primary = (entry['arxiv:primary_category'] as Node | undefined)?.['@_term'];
  const categories = list(entry.category).map((category) => category['@_term']);
  const creators = textOf(entry['dc:creator']);
  const authors =
    typeof creators === 'string'
      ? creators.split(/,\s*|\s+and\s+/)
      : list(entry.author).map((author) => textOf(author.name));
  return {
    arxivId: textOf(entry.id),
    title: textOf(entry.title),
    abstract: stripListingPrefix(textOf(entry.summary)),
    authors,
    categories: [...new Set([primary, ...categories].filter((name) => typeof name === 'string'))],
    publishedAt: textOf(entry.published),
  };
}

export interface ArxivPage extends ParsedBatch {
  /** How many entries the page held, good or bad (to know when paging is done). */
  entryCount: number;
  totalResults?: number;
}

/** One Atom document from the arXiv API (or the arXiv listing feed) → records and rejects. */
export function parseArxivAtom(xml: string, now: Date): ArxivPage {
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    throw new FeedError(`invalid XML at line ${validation.err.line}: ${validation.err.msg}`);
  }
  const feed = (parser.parse(xml) as Node).feed as Node | undefined;
  if (!feed || typeof feed !== 'object') throw new FeedError('not an Atom feed');
  const entries = list(feed.entry);
  // The API reports a bad query as a single entry whose id points at its errors page.
  const errorEntry = entries.find((entry) => String(textOf(entry.id)).includes('/api/errors'));
  if (errorEntry) throw new FeedError(`arXiv API error: ${String(textOf(errorEntry.summary)).trim()}`);
  const total = Number(textOf(feed['opensearch:totalResults']));
  return {
    ...normalizeAll(entries, entryToRaw, now),
    entryCount: entries.length,
    totalResults: Number.isFinite(total) ? total : undefined,
  };
}

export interface ArxivFetchOptions {
  apiUrl: string;
  categories: string[];
  now: Date;
  /** Stop after this many entries (newest first). */
  maxResults?: number;
  /** Stop after the page that reaches a submission at or before this (see `planArxivReach`). */
  stopAt?: Date | null;
  pageSize?: number;
  /** arXiv asks API clients to wait 3 s between requests. */
  pageDelayMs?: number;
  fetch?: FetchOptions;
  onPage?: (fetched: number, total: number) => void;
}

/** How far a run paged: `stopAt` reached, the end of the results, or `maxResults` read. */
export interface ArxivPaging {
  pages: number;
  entries: number;
  end: 'stopAt' | 'end' | 'limit';
  /** The newest and oldest submissions read. */
  newest?: Date;
  oldest?: Date;
}

/** A short page before `stopAt` while arXiv says more exist is its known hiccup: asked again this often. */
const shortPageRetries = 2;

const pause = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

/** Moves `newest` and `oldest` out to cover these records. */
function widen(paging: ArxivPaging, records: readonly PaperRecord[]) {
  for (const { publishedAt } of records) {
    if (!paging.newest || publishedAt > paging.newest) paging.newest = publishedAt;
    if (!paging.oldest || publishedAt < paging.oldest) paging.oldest = publishedAt;
  }
}

/**
 * For the progress bar: how many entries the run will read, at most `most`. Catching up, it is
 * guessed from how much of the time back to `stopAt` the pages so far covered.
 */
function expectedEntries(paging: ArxivPaging, stopAt: Date | null, most: number): number {
  if (stopAt === null || !paging.newest || !paging.oldest) return most;
  const newest = paging.newest.getTime();
  const covered = (newest - paging.oldest.getTime()) / (newest - stopAt.getTime());
  if (!(covered > 0)) return most;
  return Math.max(paging.entries, Math.min(most, Math.ceil(paging.entries / covered)));
}

/**
 * The newest papers in the given categories, newest first, fetched page by page until `stopAt` or
 * `maxResults`. When catching up to `stopAt`, a page that comes back short although arXiv counts
 * more results is asked for again, then fails the run: stopping there would skip what lies between.
 */
export async function fetchArxiv(options: ArxivFetchOptions): Promise<ParsedBatch & { paging: ArxivPaging }> {
  const { maxResults = 200, pageSize = 100, pageDelayMs = 3000, stopAt = null } = options;
  const query = options.categories.map((category) => `cat:${category}`).join(' OR ');
  const readPage = async (start: number, size: number) => {
    const params = new URLSearchParams({
      search_query: query,
      sortBy: 'submittedDate',
      sortOrder: 'descending',
      start: String(start),
      max_results: String(size),
    });
    return parseArxivAtom(await fetchFeed(`${options.apiUrl}/query?${params}`, options.fetch), options.now);
  };
  const batch: ParsedBatch = { records: [], rejected: [] };
  const paging: ArxivPaging = { pages: 0, entries: 0, end: 'limit' };
  for (let start = 0; start < maxResults; start += pageSize) {
    if (start > 0) await pause(pageDelayMs);
    const size = Math.min(pageSize, maxResults - start);
    let page = await readPage(start, size);
    const reachesStop = () => stopAt !== null && page.records.some((record) => record.publishedAt <= stopAt);
    const cutShort = () => page.entryCount < size && start + page.entryCount < (page.totalResults ?? 0);
    for (let retry = 0; stopAt !== null && !reachesStop() && cutShort(); retry++) {
      if (retry === shortPageRetries) {
        throw new FeedError(
          `arXiv answered ${page.entryCount} of ${size} entries at ${start} of ${page.totalResults} before reaching ${stopAt.toISOString()}; the next run tries again`,
        );
      }
      await pause(pageDelayMs);
      page = await readPage(start, size);
    }
    paging.pages += 1;
    paging.entries += page.entryCount;
    batch.records.push(...page.records);
    batch.rejected.push(...page.rejected.map((rejected) => ({ ...rejected, index: rejected.index + start })));
    widen(paging, page.records);
    const reached = reachesStop();
    const most = Math.min(maxResults, page.totalResults ?? maxResults);
    options.onPage?.(paging.entries, reached ? paging.entries : expectedEntries(paging, stopAt, most));
    if (reached) {
      paging.end = 'stopAt';
      break;
    }
    // A short page is the end (on a first run, so is arXiv's early empty page).
    if (
      page.entryCount < size ||
      start + page.entryCount >= (page.totalResults ?? Number.POSITIVE_INFINITY)
    ) {
      paging.end = 'end';
      break;
    }
  }
  return { ...batch, paging };
}

/** arXiv's API takes this many ids in one `id_list`. */
const idsPerRequest = 100;

/** The papers with these arXiv ids, as far as arXiv knows them (an unknown id is simply absent). */
export async function fetchArxivByIds(
  options: Pick<ArxivFetchOptions, 'apiUrl' | 'now' | 'pageDelayMs' | 'fetch'> & { ids: readonly string[] },
): Promise<ParsedBatch> {
  const { pageDelayMs = 3000 } = options;
  const batch: ParsedBatch = { records: [], rejected: [] };
  for (let start = 0; start < options.ids.length; start += idsPerRequest) {
    if (start > 0) await pause(pageDelayMs);
    const ids = options.ids.slice(start, start + idsPerRequest);
    const params = new URLSearchParams({ id_list: ids.join(','), max_results: String(ids.length) });
    const page = parseArxivAtom(
      await fetchFeed(`${options.apiUrl}/query?${params}`, options.fetch),
      options.now,
    );
    batch.records.push(...page.records);
    batch.rejected.push(...page.rejected);
  }
  return batch;
}

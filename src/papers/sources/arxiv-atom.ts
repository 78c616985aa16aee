import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FeedError, type FetchOptions, fetchFeed } from '../fetch-feed.js';
import type { RawPaper } from '../normalize.js';
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
  pageSize?: number;
  /** arXiv asks API clients to wait 3 s between requests. */
  pageDelayMs?: number;
  fetch?: FetchOptions;
  onPage?: (fetched: number, total: number) => void;
}

/** The newest papers in the given categories, newest first, fetched page by page. */
export async function fetchArxiv(options: ArxivFetchOptions): Promise<ParsedBatch> {
  const { maxResults = 200, pageSize = 100, pageDelayMs = 3000 } = options;
  const query = options.categories.map((category) => `cat:${category}`).join(' OR ');
  const batch: ParsedBatch = { records: [], rejected: [] };
  for (let start = 0; start < maxResults; start += pageSize) {
    if (start > 0 && pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, pageDelayMs));
    const size = Math.min(pageSize, maxResults - start);
    const params = new URLSearchParams({
      search_query: query,
      sortBy: 'submittedDate',
      sortOrder: 'descending',
      start: String(start),
      max_results: String(size),
    });
    const page = parseArxivAtom(
      await fetchFeed(`${options.apiUrl}/query?${params}`, options.fetch),
      options.now,
    );
    batch.records.push(...page.records);
    batch.rejected.push(...page.rejected.map((rejected) => ({ ...rejected, index: rejected.index + start })));
    const total = Math.min(maxResults, page.totalResults ?? maxResults);
    options.onPage?.(start + page.entryCount, total);
    // An empty or short page is the end (arXiv sometimes returns empty pages early: stop there too).
    if (page.entryCount < size || start + page.entryCount >= total) break;
  }
  return batch;
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
    if (start > 0 && pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, pageDelayMs));
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

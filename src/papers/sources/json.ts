import { FeedError } from '../fetch-feed.js';
import type { RawPaper } from '../normalize.js';
import { normalizeAll, type ParsedBatch } from './batch.js';
import { hfItemToRaw, isHfDailyItem } from './hf-daily.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A normalized paper as in SPEC §5 (`{arxivId, title, abstract, authors, …}`). */
function normalizedToRaw(item: Record<string, unknown>): RawPaper {
  return {
    arxivId: item.arxivId,
    title: item.title,
    abstract: item.abstract,
    authors: item.authors,
    categories: item.categories,
    publishedAt: item.publishedAt,
    upvotes: item.upvotes,
    aiSummary: item.aiSummary,
    aiKeywords: item.aiKeywords,
    githubRepo: item.githubRepo,
    projectPage: item.projectPage,
    thumbnail: item.thumbnail,
  };
}

/** A JSON array of HF daily items or of normalized papers; each item is recognised on its own. */
export function parsePapersJson(json: unknown, now: Date): ParsedBatch {
  if (!Array.isArray(json)) throw new FeedError('expected a JSON array of papers');
  return normalizeAll(
    json,
    (item) => (isHfDailyItem(item) ? hfItemToRaw(item) : normalizedToRaw(isObject(item) ? item : {})),
    now,
  );
}

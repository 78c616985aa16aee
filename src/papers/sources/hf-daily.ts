import { FeedError, type FetchOptions, fetchFeed } from '../fetch-feed.js';
import type { RawPaper } from '../normalize.js';
import { normalizeAll, type ParsedBatch } from './batch.js';

type Item = Record<string, unknown> & { paper?: Record<string, unknown> };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const isHfDailyItem = (value: unknown): value is Item => isObject(value) && isObject(value.paper);

/** One item of `GET /api/daily_papers`: the paper's own fields win; the item fills what it lacks. */
export function hfItemToRaw(item: Item): RawPaper {
  const paper = isObject(item.paper) ? item.paper : {};
  const authors = Array.isArray(paper.authors)
    ? paper.authors.map((author) => (isObject(author) ? author.name : undefined))
    : paper.authors;
  return {
    arxivId: paper.id,
    title: paper.title ?? item.title,
    abstract: paper.summary ?? item.summary,
    authors,
    publishedAt: paper.publishedAt ?? item.publishedAt,
    upvotes: paper.upvotes,
    aiSummary: paper.ai_summary,
    aiKeywords: paper.ai_keywords,
    githubRepo: paper.githubRepo,
    projectPage: paper.projectPage,
    thumbnail: item.thumbnail,
  };
}

export function parseHfDaily(json: unknown, now: Date): ParsedBatch {
  if (!Array.isArray(json)) throw new FeedError('the daily-papers answer is not a JSON array');
  return normalizeAll(json, (item) => hfItemToRaw(isObject(item) ? item : {}), now);
}

/** `GET {HF_API_URL}/daily_papers?date=YYYY-MM-DD` (today in UTC when no date is given). */
export async function fetchHfDaily(options: {
  apiUrl: string;
  date: string;
  now: Date;
  fetch?: FetchOptions;
}) {
  const url = `${options.apiUrl}/daily_papers?date=${encodeURIComponent(options.date)}`;
  const text = await fetchFeed(url, options.fetch);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FeedError(`${url} did not return valid JSON`);
  }
  return parseHfDaily(json, options.now);
}

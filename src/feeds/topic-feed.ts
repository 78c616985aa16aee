import type { Ctx } from '../context.js';
import { papersByArxivId } from '../papers/store.js';
import { type MatchQueue, type PreviewIndexes, PreviewInput, previewTopic } from '../topics/preview.js';
import { type FeedEntry, type FeedFormat, newestUpdate, renderFeed } from './feed-document.js';

/** A topic feed takes the preview's parameters: the same topic language, window and ranking. */
export const TopicFeedInput = PreviewInput;
export type TopicFeedInput = PreviewInput;

export interface RenderedFeed {
  body: string;
  updated: Date;
}

export const topicFeedCacheLimits = {
  /** A feed reader polls every 15–60 minutes; papers arrive once an hour. */
  ttlMs: 5 * 60_000,
  /** Bodies kept in all, in UTF-16 code units (~2 bytes each): a 50-paper Atom feed is ~100 KB. */
  maxChars: 8_000_000,
};

/**
 * Rendered topic feeds by format and parameters, kept for `ttlMs`, least recently used dropped first
 * once `maxChars` is reached: a popular feed costs one match per five minutes whoever polls it, and
 * a flood of distinct topics costs previews (rate-limited, one at a time), never unbounded memory.
 */
export function createTopicFeedCache(clock: () => Date, limits = topicFeedCacheLimits) {
  const feeds = new Map<string, RenderedFeed & { storedAt: number }>();
  let chars = 0;
  const drop = (key: string) => {
    const feed = feeds.get(key);
    if (!feed) return;
    feeds.delete(key);
    chars -= feed.body.length;
  };
  return {
    get(key: string): RenderedFeed | undefined {
      const feed = feeds.get(key);
      if (!feed) return undefined;
      if (clock().getTime() - feed.storedAt >= limits.ttlMs) {
        drop(key);
        return undefined;
      }
      feeds.delete(key); // Map order is the LRU order: most recent last
      feeds.set(key, feed);
      return feed;
    },
    set(key: string, feed: RenderedFeed) {
      drop(key);
      if (feed.body.length > limits.maxChars) return;
      feeds.set(key, { ...feed, storedAt: clock().getTime() });
      chars += feed.body.length;
      for (const oldest of feeds.keys()) {
        if (chars <= limits.maxChars) break;
        drop(oldest);
      }
    },
    get size() {
      return feeds.size;
    },
  };
}

/** The cache key of one topic feed: its format and parameters, the topic as written (trimmed). */
export const topicFeedKey = (format: FeedFormat, input: TopicFeedInput) =>
  JSON.stringify([format, input.days ?? null, input.limit ?? null, input.q.trim()]);

/** The feed's address with the parameters it was asked with, in one order: its Atom id and `self`. */
export function topicFeedUrl(publicUrl: string, format: FeedFormat, input: TopicFeedInput): string {
  const query = new URLSearchParams({ q: input.q.trim() });
  if (input.days !== undefined) query.set('days', String(input.days));
  if (input.limit !== undefined) query.set('limit', String(input.limit));
  return `${publicUrl}/feeds/topic.${format}?${query}`;
}

const dayMs = 86_400_000;

/**
 * A feed of what a topic catches among recent papers, best first: the preview's answer (same index,
 * same queue, same work budget, so it opens no new way to spend the server's memory or CPU), with
 * each paper read from the store for its abstract, authors and links.
 */
export async function topicFeed({
  ctx,
  input,
  preview,
}: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'config'>;
  input: { format: FeedFormat; query: TopicFeedInput };
  preview: { indexes: PreviewIndexes; queue: MatchQueue };
}): Promise<RenderedFeed> {
  const { format, query } = input;
  const answer = await previewTopic({ ctx, input: query, ...preview });
  const papers = await papersByArxivId(
    ctx.db,
    answer.matches.map((match) => match.arxivId),
  );
  const entries = answer.matches.flatMap((match): FeedEntry[] => {
    const paper = papers.get(match.arxivId);
    return paper ? [{ paper, updated: paper.firstSeenAt, matched: match.matched }] : [];
  });
  // An empty feed changes when its day does, so readers polling it get 304s until then.
  const updated = newestUpdate(entries, new Date(Math.floor(ctx.clock().getTime() / dayMs) * dayMs));
  const publicUrl = ctx.config.http.publicUrl;
  const topic = query.q.trim();
  const body = renderFeed(
    format,
    {
      title: `paperboy: ${topic}`,
      description: `New research papers matching “${topic}”, best first, from the last ${query.days ?? 30} days`,
      selfUrl: topicFeedUrl(publicUrl, format, query),
      homeUrl: `${publicUrl}/`,
      updated,
    },
    entries,
  );
  return { body, updated };
}

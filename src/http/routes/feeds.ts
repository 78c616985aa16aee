import { type RequestHandler, type Response, Router } from 'express';
import type { Ctx } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { type FeedFormat, feedContentTypes } from '../../feeds/feed-document.js';
import { readerFeed } from '../../feeds/reader-feed.js';
import {
  createTopicFeedCache,
  type RenderedFeed,
  TopicFeedInput,
  topicFeed,
  topicFeedKey,
} from '../../feeds/topic-feed.js';
import { parseParameters } from '../../query-params.js';
import type { MatchQueue, PreviewIndexes } from '../../topics/preview.js';

/**
 * Express answers 304 itself when `If-None-Match` matches the body's ETag, or when there is none and
 * `If-Modified-Since` is not older than `Last-Modified`: feed readers that poll pay no body.
 */
function sendFeed(res: Response, format: FeedFormat, feed: RenderedFeed, cacheControl: string) {
  res
    .type(feedContentTypes[format])
    .set({ 'Cache-Control': cacheControl, 'Last-Modified': feed.updated.toUTCString() })
    .send(feed.body);
}

/**
 * Topic feeds (`/feeds/topic.atom|json?q=`), public and cached, and each reader's own feed
 * (`/feeds/<feed token>.atom|json`). Topic feeds share the preview's index, match queue and per-client
 * limit; only feeds not in the cache count against the limit, so polling a popular feed costs nothing.
 */
export function feedsApi(
  ctx: Ctx,
  preview: { indexes: PreviewIndexes; queue: MatchQueue; limit: RequestHandler },
): Router {
  const router = Router();
  const cache = createTopicFeedCache(() => ctx.clock());

  for (const format of ['atom', 'json'] as const) {
    router.get(
      `/feeds/topic.${format}`,
      (req, res, next) => {
        const query = parseParameters(TopicFeedInput, req.query);
        const key = topicFeedKey(format, query);
        res.locals.feed = { query, key };
        const cached = cache.get(key);
        if (cached) {
          sendFeed(res, format, cached, 'public, max-age=300');
          return;
        }
        preview.limit(req, res, next);
      },
      async (_req, res) => {
        const { query, key } = res.locals.feed as { query: TopicFeedInput; key: string };
        const feed = await topicFeed({ ctx, input: { format, query }, preview });
        cache.set(key, feed);
        sendFeed(res, format, feed, 'public, max-age=300');
      },
    );
  }

  router.get('/feeds/:file', async (req, res) => {
    const match = /^(.+)\.(atom|json)$/.exec(String(req.params.file));
    if (!match) throw new NotFoundError('There is no feed at this address.');
    const [, token = '', format = 'atom'] = match;
    const feed = await readerFeed({ ctx, input: { token, format: format as FeedFormat } });
    // One reader's: no shared cache may keep it, no search engine may list it.
    res.set({ 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' });
    sendFeed(res, format as FeedFormat, feed, 'private, no-cache');
  });
  return router;
}

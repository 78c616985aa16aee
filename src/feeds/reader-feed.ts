import type { Ctx } from '../context.js';
import { subscriberForToken } from '../subscribers/store.js';
import { type FeedFormat, newestUpdate, renderFeed } from './feed-document.js';
import { deliveredEntries } from './store.js';
import type { RenderedFeed } from './topic-feed.js';

/** A reader's feed holds the papers of the last 30 days of digests, at most 100. */
export const readerFeedLimits = { days: 30, entries: 100 };

/** The address of a reader's own feed: a `feed` token, which never expires and dies with the reader. */
export function readerFeedUrl(
  ctx: Pick<Ctx, 'config' | 'tokens'>,
  subscriber: { id: number; tokenSalt: string },
  now: Date,
  format: FeedFormat = 'atom',
): string {
  return `${ctx.config.http.publicUrl}/feeds/${ctx.tokens.sign('feed', subscriber, now)}.${format}`;
}

/**
 * A reader's own feed: the papers their digests carried, by email or, for "feed only", published to
 * the feed instead. It names no address and links to nothing that acts for the reader (it is read
 * by feed services, and may be shared).
 */
export async function readerFeed({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'config' | 'tokens'>;
  input: { token: string; format: FeedFormat };
}): Promise<RenderedFeed> {
  const subscriber = await subscriberForToken(ctx, input.token, 'feed');
  const now = ctx.clock();
  const entries = await deliveredEntries(ctx.db, subscriber.id, {
    since: new Date(now.getTime() - readerFeedLimits.days * 86_400_000),
    limit: readerFeedLimits.entries,
  });
  // Without entries, the feed is as old as the subscription: it changes with the first digest.
  const updated = newestUpdate(entries, subscriber.confirmedAt ?? subscriber.createdAt);
  const publicUrl = ctx.config.http.publicUrl;
  const body = renderFeed(
    input.format,
    {
      title: 'paperboy: your digest',
      description: 'The papers of your paperboy digests, newest first',
      selfUrl: `${publicUrl}/feeds/${input.token}.${input.format}`,
      homeUrl: `${publicUrl}/`,
      updated,
    },
    entries,
  );
  return { body, updated };
}

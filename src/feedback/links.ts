import type { Ctx } from '../context.js';
import type { FeedbackKind, Subscriber } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { parseStoredPicks } from '../digests/paper-rows.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById } from '../subscribers/store.js';

/** A feedback link's detail: which of the digest's stored picks (base 36), then `m`ore or `l`ess. */
const detailOf = (pickIndex: number, kind: FeedbackKind) =>
  `${pickIndex.toString(36)}${kind === 'more' ? 'm' : 'l'}`;

/**
 * The "more / less like this" links of one digest's cards, by the pick's place in the digest's stored
 * picks: the digest id is sealed once, each link costs one HMAC.
 */
export function feedbackLinks(
  ctx: Pick<Ctx, 'config' | 'tokens'>,
  subscriber: Pick<Subscriber, 'tokenSalt'>,
  digestId: number,
  now: Date,
): (pickIndex: number) => { more: string; less: string } {
  const sign = ctx.tokens.signer('feedback', { id: digestId, tokenSalt: subscriber.tokenSalt }, now);
  const base = `${ctx.config.http.publicUrl}/feedback/`;
  return (pickIndex) => ({
    more: base + sign(detailOf(pickIndex, 'more')),
    less: base + sign(detailOf(pickIndex, 'less')),
  });
}

/** What a genuine feedback link names. */
export interface FeedbackTarget {
  subscriber: Subscriber;
  digestId: number;
  paper: { id: number; arxivId: string; title: string };
  kind: FeedbackKind;
}

/** The reader, digest, paper and direction a feedback link names; anything else is "not found". */
export async function feedbackTarget(
  ctx: Pick<Ctx, 'db' | 'tokens' | 'clock'>,
  token: string,
): Promise<FeedbackTarget> {
  const notFound = new NotFoundError(
    'This link is not valid. Use the "More like this" and "Less like this" links in your latest digest.',
  );
  const digestId = ctx.tokens.peek(token, 'feedback');
  const detail = ctx.tokens.peekDetail(token, 'feedback');
  if (digestId === undefined || detail === undefined) throw notFound;
  const digest = await ctx.db.get<{ subscriberId: number; picks: string | null }>(
    sql`select subscriber_id as "subscriberId", picks from digests where id = ${digestId}`,
  );
  const subscriber = digest && (await findSubscriberById(ctx.db, digest.subscriberId));
  if (
    !digest ||
    !ctx.tokens.verify(
      token,
      'feedback',
      subscriber && { id: digestId, tokenSalt: subscriber.tokenSalt },
      ctx.clock(),
    )
  ) {
    throw notFound;
  }
  const pick = parseStoredPicks(digest.picks)[Number.parseInt(detail.slice(0, -1), 36)];
  const paper =
    pick &&
    (await ctx.db.get<{ id: number; arxivId: string; title: string }>(
      sql`select id, arxiv_id as "arxivId", title from papers where id = ${pick[0]}`,
    ));
  if (!subscriber || !paper) throw notFound;
  return { subscriber, digestId, paper, kind: detail.endsWith('m') ? 'more' : 'less' };
}

import type { Ctx, MailCtx } from '../context.js';
import { type Db, forUpdate } from '../db/client.js';
import { type Digest, hardBounceError, type Subscriber } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { digestEmailValues } from '../email/digest-view.js';
import { messageIdFor, PermanentDeliveryError } from '../email/mailer.js';
import { renderDigestWithinBudget } from '../email/render.js';
import { feedbackLinks } from '../feedback/links.js';
import { readerRanking } from '../feedback/store.js';
import { observeDigestSend } from '../metrics.js';
import { newestPaperId } from '../papers/store.js';
import { findSubscriberById, readTopics, recordEvent } from '../subscribers/store.js';
import { storedPicksJson } from './paper-rows.js';
import {
  type DigestCandidates,
  likeReferences,
  loadDigestCandidates,
  pickDigestPapers,
  sentPaperIds,
} from './select.js';

/** Consecutive hard (5xx) failures after which an address is marked bounced. */
export const hardBounceThreshold = 3;
const hardFailure = hardBounceError;
/** The note on a row found with `data_sent_at` set after its worker died: the server may have the message. */
export const handedOverNote =
  'worker stopped after handing the message to SMTP; recorded as sent (never sent twice)';
const candidatesLifetimeMs = 10 * 60_000;

/**
 * The candidate papers, indexed, shared by every send job of a worker process: rebuilt when new
 * papers arrive or after ten minutes, never per digest.
 */
export function createCandidatesCache(ctx: Pick<Ctx, 'db' | 'clock'>) {
  // The promise is shared, so concurrent sends wait for one rebuild instead of each starting one.
  let cached: { builtAt: number; newestId: number; candidates: Promise<DigestCandidates> } | undefined;
  return async () => {
    const now = ctx.clock();
    const newestId = await newestPaperId(ctx.db);
    if (!cached || cached.newestId !== newestId || now.getTime() - cached.builtAt > candidatesLifetimeMs) {
      const candidates = loadDigestCandidates(ctx.db, now);
      cached = { builtAt: now.getTime(), newestId, candidates };
      candidates.catch(() => {
        if (cached?.candidates === candidates) cached = undefined;
      });
    }
    return cached.candidates;
  };
}
export type CandidatesCache = ReturnType<typeof createCandidatesCache>;

export type SendCtx = MailCtx & { candidates: CandidatesCache };

export type SendOutcome = 'sent' | 'published' | 'skipped' | 'failed' | 'already-done' | 'missing';

/** The links of one digest email, signed for this subscriber. */
export function digestLinks(
  ctx: Pick<Ctx, 'config' | 'tokens'>,
  subscriber: Subscriber,
  digestId: number,
  now: Date,
) {
  const base = ctx.config.http.publicUrl;
  return {
    web: `${base}/digests/${ctx.tokens.sign('digest', { id: digestId, tokenSalt: subscriber.tokenSalt }, now)}`,
    manage: `${base}/manage/${ctx.tokens.sign('manage', subscriber, now)}`,
    unsubscribe: `${base}/unsubscribe/${ctx.tokens.sign('unsubscribe', subscriber, now)}`,
  };
}

/** The List-* headers mailbox providers require of bulk mail (RFC 2369, RFC 8058, RFC 2919). */
export function listHeaders(ctx: Pick<Ctx, 'config'>, unsubscribeUrl: string): Record<string, string> {
  const host = new URL(ctx.config.http.publicUrl).hostname;
  return {
    'List-Unsubscribe': `<${unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': `paperboy digest <digest.${host}>`,
  };
}

/**
 * Moves the row to `sending` in one conditional statement, so no transaction holds a connection (or,
 * on SQLite, the write lock) while the process renders other digests: a `queued` row, or a `sending`
 * row whose end of data never reached the SMTP server (its worker died). Otherwise the row is
 * finished, missing, or `sending` with `data_sent_at` set: the server may have the message, so it is
 * recorded as sent rather than risk a second email.
 */
async function claimDigest(ctx: Pick<Ctx, 'db'>, digestId: number, now: Date) {
  const claimed = await ctx.db.get<
    Pick<Digest, 'id' | 'subscriberId' | 'localDate' | 'messageId'> & { windowStart: number }
  >(sql`update digests set status = 'sending', sending_at = ${now}, attempts = attempts + 1
    where id = ${digestId} and (status = 'queued' or (status = 'sending' and data_sent_at is null))
    returning id, subscriber_id as "subscriberId", local_date as "localDate", window_start as "windowStart",
      message_id as "messageId"`);
  if (claimed) return claimed;
  const recorded =
    await ctx.db.run(sql`update digests set status = 'sent', sent_at = coalesce(sent_at, data_sent_at),
      error = ${handedOverNote}
    where id = ${digestId} and status = 'sending' and data_sent_at is not null`);
  if (recorded > 0) return 'already-done' as const;
  const exists = await ctx.db.value(sql`select 1 from digests where id = ${digestId}`);
  return exists === undefined ? ('missing' as const) : ('already-done' as const);
}

/**
 * Sends one digest (SPEC §7, Delivery). The job carries only the digest id; this re-reads the row and
 * moves it `queued → sending → sent | published | skipped | failed` (`published`: a feed-only reader's). A row already finished is left alone, so a
 * retried or duplicated job never sends twice. A row found in `sending` (its worker died) is resumed
 * only if the message's end of data never reached the SMTP server (`data_sent_at` unset); otherwise
 * the server may have accepted it, and it is recorded as sent rather than risk a second email.
 */
export async function sendDigest({
  ctx,
  input,
}: {
  ctx: SendCtx;
  input: { digestId: number; isLastAttempt: boolean };
}): Promise<SendOutcome> {
  const now = ctx.clock();
  const startedAt = performance.now();
  const claim = await claimDigest(ctx, input.digestId, now);
  if (typeof claim === 'string') return claim;
  const digest = claim;
  const log = ctx.log.child({ digestId: digest.id, subscriberId: digest.subscriberId });

  const finish = async (
    status: 'sent' | 'published' | 'skipped' | 'failed',
    fields: { messageId?: string; paperCount?: number; error?: string } = {},
    db = ctx.db,
  ) => {
    const sentAt = status === 'sent' || status === 'published' ? ctx.clock() : null;
    await db.run(sql`update digests set status = ${status}, sent_at = ${sentAt},
        message_id = coalesce(${fields.messageId ?? null}, message_id),
        paper_count = coalesce(${fields.paperCount ?? null}, paper_count), error = ${fields.error ?? null}
      where id = ${digest.id}`);
  };

  const subscriber = await findSubscriberById(ctx.db, digest.subscriberId);
  if (subscriber?.status !== 'active') {
    await finish('skipped', { error: 'subscriber no longer active' });
    return 'skipped';
  }
  const windowStart = new Date(digest.windowStart);
  const [topics, candidates, sent, ranking] = await Promise.all([
    readTopics(ctx.db, subscriber.id),
    ctx.candidates(),
    sentPaperIds(ctx.db, subscriber.id, windowStart),
    readerRanking(ctx.db, subscriber.id),
  ]);
  const picks = pickDigestPapers(
    candidates,
    { topics },
    {
      windowStart,
      sent,
      ...ranking,
      references: await likeReferences(ctx.db, topics),
      explain: subscriber.maxPapers,
      shown: subscriber.maxPapers,
    },
  );
  if (picks.length === 0) {
    await finish('skipped', { paperCount: 0 });
    log.info('no new papers match: digest skipped');
    return 'skipped';
  }
  if (subscriber.delivery === 'feed') {
    // "Feed only": the picks are the digest; the reader's feed shows them, and no email goes.
    await ctx.db.run(sql`update digests set picks = ${storedPicksJson(picks)} where id = ${digest.id}`);
    await finish('published', { paperCount: picks.length });
    log.info({ papers: picks.length }, "digest published to the reader's feed (feed only)");
    return 'published';
  }
  const links = digestLinks(ctx, subscriber, digest.id, now);
  const feedback = feedbackLinks(ctx, subscriber, digest.id, now);
  const email = renderDigestWithinBudget(
    ctx.templates,
    (shown) =>
      digestEmailValues({
        picks,
        shown,
        localDate: digest.localDate,
        subscriber: { email: subscriber.email, frequency: subscriber.frequency, topics },
        urls: links,
        feedback,
      }),
    subscriber.maxPapers,
  );
  // Stable across retries, and opaque: row ids would tell anyone how many digests and readers exist.
  const messageId = messageIdFor(ctx.config.mail.from, `digest.${ctx.tokens.opaque(`digest:${digest.id}`)}`);
  try {
    await ctx.mailer.send(
      {
        to: subscriber.email,
        tag: 'digest',
        messageId,
        headers: listHeaders(ctx, links.unsubscribe),
        ...email,
      },
      {
        // Awaited before the dot is written: if it cannot be recorded, the message is not completed.
        // The picks go with it: a message that may have been accepted always has its web version.
        beforeDataEnd: () =>
          ctx.db.run(sql`update digests set data_sent_at = ${Date.now()}, message_id = ${messageId},
              picks = ${storedPicksJson(picks)}
            where id = ${digest.id}`),
      },
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof PermanentDeliveryError) {
      await markFailedForGood(ctx, subscriber.id, (tx) =>
        finish('failed', { error: `${hardFailure}${reason}` }, tx),
      );
      log.warn({ err: error }, 'digest refused by SMTP (5xx): failed, not retried');
      throw error;
    }
    // Not accepted (4xx, connection lost): back to queued for the retry, or failed when out of tries.
    if (input.isLastAttempt) await finish('failed', { error: reason });
    else
      await ctx.db.run(
        sql`update digests set status = 'queued', data_sent_at = null, error = ${reason} where id = ${digest.id}`,
      );
    log.warn({ err: error, isLastAttempt: input.isLastAttempt }, 'digest send failed');
    throw error;
  }
  await finish('sent', { messageId, paperCount: picks.length });
  observeDigestSend((performance.now() - startedAt) / 1000);
  log.info({ papers: picks.length, messageId }, 'digest sent');
  return 'sent';
}

/**
 * A digest refused for good (5xx), and the bounce rule: when the subscriber's last
 * `hardBounceThreshold` finished digests were all refused for good, the address is `bounced`. One
 * transaction, with the subscriber's row locked first (PostgreSQL), so the digest's end and the
 * verdict are seen together, and two digests of one subscriber failing at once decide in turn.
 */
async function markFailedForGood(
  ctx: Pick<Ctx, 'db' | 'clock' | 'log'>,
  subscriberId: number,
  fail: (tx: Db) => Promise<void>,
) {
  const now = ctx.clock();
  const isBounced = await ctx.db.transaction(async (tx) => {
    await tx.get(sql`select id from subscribers where id = ${subscriberId}${forUpdate(tx)}`);
    await fail(tx);
    const recent = await tx.column<number>(sql`
      select case when status = 'failed' and error like ${`${hardFailure}%`} then 1 else 0 end from digests
      where subscriber_id = ${subscriberId} and status in ('sent', 'failed') order by id desc limit ${hardBounceThreshold}`);
    if (recent.length < hardBounceThreshold || !recent.every(Boolean)) return false;
    const changes = await tx.run(sql`update subscribers set status = 'bounced', updated_at = ${now}
      where id = ${subscriberId} and status = 'active'`);
    if (changes > 0) await recordEvent(tx, { subscriberId, type: 'bounced', source: 'delivery', at: now });
    return changes > 0;
  });
  if (isBounced) {
    ctx.log.warn(
      { subscriberId },
      `address marked bounced after ${hardBounceThreshold} hard failures in a row`,
    );
  }
}

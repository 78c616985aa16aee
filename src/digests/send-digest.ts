import type { Ctx, MailCtx } from '../context.js';
import { inTransaction, prepared } from '../db/client.js';
import type { Digest, Subscriber } from '../db/schema.js';
import { digestEmailValues } from '../email/digest-view.js';
import { messageIdFor, PermanentDeliveryError } from '../email/mailer.js';
import { renderDigestWithinBudget } from '../email/render.js';
import { observeDigestSend } from '../metrics.js';
import { findSubscriberById, readTopics, recordEvent } from '../subscribers/store.js';
import {
  type DigestCandidates,
  type DigestPick,
  loadDigestCandidates,
  pickDigestPapers,
  sentPaperIds,
} from './select.js';

/** Consecutive hard (5xx) failures after which an address is marked bounced. */
export const hardBounceThreshold = 3;
const hardFailure = 'hard bounce: ';
const candidatesLifetimeMs = 10 * 60_000;

/**
 * The candidate papers, indexed, shared by every send job of a worker process: rebuilt when new
 * papers arrive or after ten minutes, never per digest.
 */
export function createCandidatesCache(ctx: Pick<Ctx, 'db' | 'clock'>) {
  let cached: { builtAt: number; newestId: number; candidates: DigestCandidates } | undefined;
  const newestPaper = prepared(ctx.db, 'select coalesce(max(id), 0) from papers', 'pluck');
  return () => {
    const now = ctx.clock();
    const newestId = newestPaper.get() as number;
    if (!cached || cached.newestId !== newestId || now.getTime() - cached.builtAt > candidatesLifetimeMs) {
      cached = { builtAt: now.getTime(), newestId, candidates: loadDigestCandidates(ctx.db, now) };
    }
    return cached.candidates;
  };
}
export type CandidatesCache = ReturnType<typeof createCandidatesCache>;

export type SendCtx = MailCtx & { candidates: CandidatesCache };

export type SendOutcome = 'sent' | 'skipped' | 'failed' | 'already-done' | 'missing';

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

function savePicks(
  ctx: Pick<Ctx, 'db'>,
  digest: Pick<Digest, 'id' | 'subscriberId'>,
  picks: readonly DigestPick[],
) {
  prepared(ctx.db, 'delete from digest_papers where digest_id = ?').run(digest.id);
  const insert = prepared(
    ctx.db,
    `insert into digest_papers (digest_id, paper_id, subscriber_id, position, score, topic, matched)
     values (?, ?, ?, ?, ?, ?, ?)`,
  );
  picks.forEach((pick, position) => {
    insert.run(
      digest.id,
      pick.paper.id,
      digest.subscriberId,
      position,
      pick.score,
      pick.topic ?? null,
      JSON.stringify(pick.matched),
    );
  });
}

/**
 * Sends one digest (SPEC §7, Delivery). The job carries only the digest id; this re-reads the row and
 * moves it `queued → sending → sent | skipped | failed`. A row already finished is left alone, so a
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
  const claim = inTransaction(ctx.db, () => {
    const digest = prepared(
      ctx.db,
      `select id, subscriber_id as subscriberId, local_date as localDate, status, window_start as windowStart,
                data_sent_at as dataSentAt, message_id as messageId
         from digests where id = ?`,
    ).get(input.digestId) as
      | (Pick<Digest, 'id' | 'subscriberId' | 'localDate' | 'status' | 'messageId'> & {
          windowStart: number;
          dataSentAt: number | null;
        })
      | undefined;
    if (!digest) return { outcome: 'missing' as const };
    if (digest.status === 'sent' || digest.status === 'skipped' || digest.status === 'failed') {
      return { outcome: 'already-done' as const };
    }
    if (digest.status === 'sending' && digest.dataSentAt !== null) {
      prepared(
        ctx.db,
        "update digests set status = 'sent', sent_at = coalesce(sent_at, data_sent_at), error = ? where id = ?",
      ).run(
        'worker stopped after handing the message to SMTP; recorded as sent (never sent twice)',
        digest.id,
      );
      return { outcome: 'already-done' as const };
    }
    prepared(
      ctx.db,
      "update digests set status = 'sending', sending_at = ?, attempts = attempts + 1 where id = ?",
    ).run(now.getTime(), digest.id);
    return { outcome: 'claimed' as const, digest };
  });
  if (claim.outcome !== 'claimed') return claim.outcome;
  const { digest } = claim;
  const log = ctx.log.child({ digestId: digest.id, subscriberId: digest.subscriberId });

  const finish = (
    status: 'sent' | 'skipped' | 'failed',
    fields: { messageId?: string; paperCount?: number; error?: string } = {},
  ) => {
    prepared(
      ctx.db,
      `update digests set status = ?, sent_at = ?, message_id = coalesce(?, message_id),
                paper_count = coalesce(?, paper_count), error = ? where id = ?`,
    ).run(
      status,
      status === 'sent' ? ctx.clock().getTime() : null,
      fields.messageId ?? null,
      fields.paperCount ?? null,
      fields.error ?? null,
      digest.id,
    );
  };

  const subscriber = findSubscriberById(ctx.db, digest.subscriberId);
  if (subscriber?.status !== 'active') {
    finish('skipped', { error: 'subscriber no longer active' });
    return 'skipped';
  }
  const topics = readTopics(ctx.db, subscriber.id);
  const picks = pickDigestPapers(
    ctx.candidates(),
    { topics },
    { windowStart: new Date(digest.windowStart), sent: sentPaperIds(ctx.db, subscriber.id) },
  );
  if (picks.length === 0) {
    finish('skipped', { paperCount: 0 });
    log.info('no new papers match: digest skipped');
    return 'skipped';
  }
  inTransaction(ctx.db, () => savePicks(ctx, digest, picks));

  const links = digestLinks(ctx, subscriber, digest.id, now);
  const email = renderDigestWithinBudget(
    ctx.templates,
    (shown) =>
      digestEmailValues({
        picks,
        shown,
        localDate: digest.localDate,
        subscriber: { email: subscriber.email, frequency: subscriber.frequency, topics },
        urls: links,
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
        beforeDataEnd: () => {
          prepared(ctx.db, 'update digests set data_sent_at = ?, message_id = ? where id = ?').run(
            Date.now(),
            messageId,
            digest.id,
          );
        },
      },
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof PermanentDeliveryError) {
      finish('failed', { error: `${hardFailure}${reason}` });
      markBouncedAfterRepeatedFailures(ctx, subscriber.id);
      log.warn({ err: error }, 'digest refused by SMTP (5xx): failed, not retried');
      throw error;
    }
    // Not accepted (4xx, connection lost): back to queued for the retry, or failed when out of tries.
    if (input.isLastAttempt) finish('failed', { error: reason });
    else
      prepared(
        ctx.db,
        "update digests set status = 'queued', data_sent_at = null, error = ? where id = ?",
      ).run(reason, digest.id);
    log.warn({ err: error, isLastAttempt: input.isLastAttempt }, 'digest send failed');
    throw error;
  }
  finish('sent', { messageId, paperCount: picks.length });
  observeDigestSend((performance.now() - startedAt) / 1000);
  log.info({ papers: picks.length, messageId }, 'digest sent');
  return 'sent';
}

function markBouncedAfterRepeatedFailures(ctx: Pick<Ctx, 'db' | 'clock' | 'log'>, subscriberId: number) {
  const recent = prepared(
    ctx.db,
    `select status = 'failed' and error like ? as isHard from digests
     where subscriber_id = ? and status in ('sent', 'failed') order by id desc limit ?`,
    'pluck',
  ).all(`${hardFailure}%`, subscriberId, hardBounceThreshold) as number[];
  if (recent.length < hardBounceThreshold || !recent.every(Boolean)) return;
  const now = ctx.clock();
  inTransaction(ctx.db, () => {
    const { changes } = prepared(
      ctx.db,
      "update subscribers set status = 'bounced', updated_at = ? where id = ? and status = 'active'",
    ).run(now.getTime(), subscriberId);
    if (changes > 0) recordEvent(ctx.db, { subscriberId, type: 'bounced', source: 'delivery', at: now });
  });
  ctx.log.warn(
    { subscriberId },
    `address marked bounced after ${hardBounceThreshold} hard failures in a row`,
  );
}

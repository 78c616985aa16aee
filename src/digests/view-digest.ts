import type { Ctx } from '../context.js';
import { sql } from '../db/sql.js';
import { digestEmailValues } from '../email/digest-view.js';
import { renderDigestEmail } from '../email/render.js';
import type { EmailTemplates } from '../email/templates.js';
import { NotFoundError } from '../errors.js';
import { readerRanking } from '../feedback/store.js';
import { normalizeEmail } from '../subscribers/email-address.js';
import { findSubscriberByEmail, findSubscriberById, readTopics } from '../subscribers/store.js';
import { storedDigestPicks } from './paper-rows.js';
import { windowStartFor } from './plan.js';
import {
  type DigestPick,
  likeReferences,
  loadDigestCandidates,
  pickDigestPapers,
  sentPaperIds,
} from './select.js';
import { digestLinks } from './send-digest.js';

/** The web version of one digest ("view in browser"): the same layout, every paper it picked. */
export async function viewDigest({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'tokens' | 'clock' | 'config'> & { templates: EmailTemplates };
  input: { token: string };
}): Promise<string> {
  const notFound = () => new NotFoundError('This digest link is not valid.');
  const digestId = ctx.tokens.peek(input.token, 'digest');
  const digest =
    digestId === undefined
      ? undefined
      : await ctx.db.get<{ id: number; subscriberId: number; localDate: string }>(
          sql`select id, subscriber_id as "subscriberId", local_date as "localDate" from digests where id = ${digestId}`,
        );
  const subscriber = digest && (await findSubscriberById(ctx.db, digest.subscriberId));
  if (!digest || !subscriber) throw notFound();
  if (
    !ctx.tokens.verify(input.token, 'digest', { id: digest.id, tokenSalt: subscriber.tokenSalt }, ctx.clock())
  ) {
    throw notFound();
  }
  const picks = await storedDigestPicks(ctx.db, digest.id);
  const values = digestEmailValues({
    picks,
    shown: picks.length,
    localDate: digest.localDate,
    // The web version is meant to be shared: it names no address and grants nothing (no manage,
    // unsubscribe or feedback links; those stay in the email), and has no link to itself.
    subscriber: {
      email: '',
      frequency: subscriber.frequency,
      topics: await readTopics(ctx.db, subscriber.id),
    },
    urls: { web: '', manage: '', unsubscribe: '' },
  });
  return renderDigestEmail(ctx.templates, values).html;
}

/** The digest an address would get now (`paperboy preview`): nothing is stored or sent. */
export async function previewDigest({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'tokens' | 'clock' | 'config'> & { templates: EmailTemplates };
  input: { email: string };
}) {
  const normalized = normalizeEmail(input.email);
  const subscriber = normalized.ok ? await findSubscriberByEmail(ctx.db, normalized.email) : undefined;
  if (!subscriber) throw new NotFoundError(`No subscriber with the address ${input.email}`);
  const now = ctx.clock();
  const last = await ctx.db.value<number>(
    sql`select planned_at from digests where subscriber_id = ${subscriber.id} order by local_date desc limit 1`,
  );
  const topics = await readTopics(ctx.db, subscriber.id);
  const windowStart = windowStartFor(
    subscriber.frequency,
    last === undefined ? undefined : new Date(last),
    now,
  );
  const picks: DigestPick[] = pickDigestPapers(
    await loadDigestCandidates(ctx.db, now),
    { topics },
    {
      windowStart,
      sent: await sentPaperIds(ctx.db, subscriber.id, windowStart),
      ...(await readerRanking(ctx.db, subscriber.id)),
      references: await likeReferences(ctx.db, topics),
      shown: subscriber.maxPapers,
    },
  );
  const links = digestLinks(ctx, subscriber, 1, now);
  const values = digestEmailValues({
    picks,
    shown: subscriber.maxPapers,
    localDate: now.toISOString().slice(0, 10),
    subscriber: { email: subscriber.email, frequency: subscriber.frequency, topics },
    // There is no digest row yet, so "view in browser" and the feedback links point at the preferences page.
    urls: { ...links, web: links.manage },
    feedback: () => ({ more: links.manage, less: links.manage }),
  });
  return { picks: picks.length, status: subscriber.status, ...renderDigestEmail(ctx.templates, values) };
}

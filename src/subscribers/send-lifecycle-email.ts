import type { MailCtx } from '../context.js';
import { renderLifecycleEmail } from '../email/render.js';
import type { JobPayload } from '../queue/jobs.js';
import { describeSchedule, type Preferences } from './preferences.js';
import { findRequestById, findSubscriberById, preferencesOf } from './store.js';

const summary = (preferences: Preferences) => ({
  frequency: preferences.frequency,
  topicsLine: preferences.topics.join('; '),
  scheduleLine: describeSchedule(preferences),
});

/**
 * The job behind confirmation, "manage" and welcome emails. It re-reads the rows, so an email whose
 * reason has passed (confirmed meanwhile, unsubscribed, deleted, request replaced) is quietly dropped.
 */
export async function sendLifecycleEmail({
  ctx,
  input,
}: {
  ctx: MailCtx;
  input: JobPayload<'lifecycle-email'>;
}) {
  const subscriber = await findSubscriberById(ctx.db, input.subscriberId);
  const request = input.requestId === undefined ? undefined : await findRequestById(ctx.db, input.requestId);
  const isStillWanted =
    input.kind === 'confirmation'
      ? request?.subscriberId === subscriber?.id && !request?.confirmedAt && subscriber?.status !== 'active'
      : subscriber?.status === 'active';
  if (!subscriber || !isStillWanted || subscriber.status === 'complained') {
    ctx.log.info({ subscriberId: input.subscriberId, kind: input.kind }, 'lifecycle email no longer needed');
    return { sent: false };
  }
  const now = ctx.clock();
  const base = ctx.config.http.publicUrl;
  // A confirmation shows (and its link applies) the request's preferences; the others the current ones.
  const link: Record<string, string> = request
    ? {
        confirmUrl: `${base}/confirm/${ctx.tokens.sign('confirm', { id: request.id, tokenSalt: subscriber.tokenSalt }, now)}`,
      }
    : { manageUrl: `${base}/manage/${ctx.tokens.sign('manage', subscriber, now)}` };
  const values: Record<string, string> = {
    email: subscriber.email,
    ...summary(request?.preferences ?? (await preferencesOf(ctx.db, subscriber))),
    ...link,
  };
  const email = renderLifecycleEmail(ctx.templates, input.kind, values);
  const { messageId } = await ctx.mailer.send({ to: subscriber.email, tag: input.kind, ...email });
  ctx.log.info({ subscriberId: subscriber.id, kind: input.kind, messageId }, 'lifecycle email sent');
  return { sent: true, messageId };
}

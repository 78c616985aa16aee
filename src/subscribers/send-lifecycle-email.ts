import type { MailCtx } from '../context.js';
import { renderLifecycleEmail } from '../email/render.js';
import type { JobPayload } from '../queue/jobs.js';
import { findSubscriberById, readTopics } from './store.js';

/**
 * The job behind confirmation and "manage" emails. It re-reads the subscriber, so an email whose
 * reason has passed (confirmed meanwhile, unsubscribed, deleted) is quietly dropped.
 */
export async function sendLifecycleEmail({
  ctx,
  input,
}: {
  ctx: MailCtx;
  input: JobPayload<'lifecycle-email'>;
}) {
  const subscriber = findSubscriberById(ctx.db, input.subscriberId);
  const wantedStatus = input.kind === 'confirmation' ? 'pending' : 'active';
  if (subscriber?.status !== wantedStatus) {
    ctx.log.info({ subscriberId: input.subscriberId, kind: input.kind }, 'lifecycle email no longer needed');
    return { sent: false };
  }
  const now = ctx.clock();
  const base = ctx.config.http.publicUrl;
  const values: Record<string, string> =
    input.kind === 'confirmation'
      ? {
          email: subscriber.email,
          frequency: subscriber.frequency,
          topicsLine: readTopics(ctx.db, subscriber.id).join('; '),
          confirmUrl: `${base}/confirm/${ctx.tokens.sign('confirm', subscriber, now)}`,
        }
      : {
          email: subscriber.email,
          manageUrl: `${base}/manage/${ctx.tokens.sign('manage', subscriber, now)}`,
        };
  const email = renderLifecycleEmail(ctx.templates, input.kind, values);
  const { messageId } = await ctx.mailer.send({ to: subscriber.email, tag: input.kind, ...email });
  ctx.log.info({ subscriberId: subscriber.id, kind: input.kind, messageId }, 'lifecycle email sent');
  return { sent: true, messageId };
}

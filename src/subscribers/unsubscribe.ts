import type { Ctx } from '../context.js';
import type { EventSource } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById, recordEvent, updateSubscriber } from './store.js';

/** Stops all mail at once. Idempotent: a second click changes nothing and reports the same. */
export function unsubscribe({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { subscriberId: number; source: EventSource };
}) {
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const subscriber = await findSubscriberById(tx, input.subscriberId);
    if (!subscriber) throw new NotFoundError();
    // bounced and complained already receive nothing; keep that more specific state.
    if (subscriber.status !== 'pending' && subscriber.status !== 'active') return subscriber;
    await updateSubscriber(tx, subscriber.id, {
      status: 'unsubscribed',
      unsubscribedAt: now,
      updatedAt: now,
    });
    await recordEvent(tx, {
      subscriberId: subscriber.id,
      type: 'unsubscribed',
      source: input.source,
      at: now,
    });
    return { ...subscriber, status: 'unsubscribed' as const };
  });
}

import type { Ctx } from '../context.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById, recordEvent, updateSubscriber } from './store.js';

/**
 * Turns mail back on from the manage page. The manage link reached this inbox, which proves the
 * address as well as a fresh confirmation would, so no second round trip is asked for.
 */
export function resubscribe({ ctx, input }: { ctx: Ctx; input: { subscriberId: number } }) {
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const subscriber = await findSubscriberById(tx, input.subscriberId);
    if (!subscriber) throw new NotFoundError();
    if (subscriber.status === 'active') return subscriber;
    await updateSubscriber(tx, subscriber.id, {
      status: 'active',
      unsubscribedAt: null,
      confirmedAt: subscriber.confirmedAt ?? now,
      updatedAt: now,
    });
    await recordEvent(tx, { subscriberId: subscriber.id, type: 'resubscribed', source: 'manage', at: now });
    return { ...subscriber, status: 'active' as const };
  });
}

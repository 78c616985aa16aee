import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import { subscribers } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById, recordEvent } from './store.js';

/**
 * Turns mail back on from the manage page. The manage link reached this inbox, which proves the
 * address as well as a fresh confirmation would, so no second round trip is asked for.
 */
export function resubscribe({ ctx, input }: { ctx: Ctx; input: { subscriberId: number } }) {
  const now = ctx.clock();
  return inTransaction(ctx.db, (tx) => {
    const subscriber = findSubscriberById(tx, input.subscriberId);
    if (!subscriber) throw new NotFoundError();
    if (subscriber.status === 'active') return subscriber;
    tx.update(subscribers)
      .set({
        status: 'active',
        unsubscribedAt: null,
        confirmedAt: subscriber.confirmedAt ?? now,
        updatedAt: now,
      })
      .where(eq(subscribers.id, subscriber.id))
      .run();
    recordEvent(tx, { subscriberId: subscriber.id, type: 'resubscribed', source: 'manage', at: now });
    return { ...subscriber, status: 'active' as const };
  });
}

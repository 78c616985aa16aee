import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import { subscribers } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { recordEvent, subscriberForToken } from './store.js';

/** Activates a pending subscription. Confirming twice is fine; a link for a closed subscription is not. */
export function confirmSubscription({ ctx, input }: { ctx: Ctx; input: { token: string } }) {
  const now = ctx.clock();
  return inTransaction(ctx.db, (tx) => {
    const subscriber = subscriberForToken({ ...ctx, db: tx }, input.token, 'confirm');
    if (subscriber.status === 'active') return { isNewlyConfirmed: false, subscriber };
    if (subscriber.status !== 'pending') {
      throw new NotFoundError(
        'This subscription is no longer waiting for confirmation. Subscribe again to restart it.',
      );
    }
    tx.update(subscribers)
      .set({ status: 'active', confirmedAt: now, updatedAt: now })
      .where(eq(subscribers.id, subscriber.id))
      .run();
    recordEvent(tx, { subscriberId: subscriber.id, type: 'confirmed', source: 'link', at: now });
    return { isNewlyConfirmed: true, subscriber: { ...subscriber, status: 'active' as const } };
  });
}

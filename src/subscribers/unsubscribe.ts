import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import { type EventSource, subscribers } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById, recordEvent } from './store.js';

/** Stops all mail at once. Idempotent: a second click changes nothing and reports the same. */
export function unsubscribe({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { subscriberId: number; source: EventSource };
}) {
  const now = ctx.clock();
  return inTransaction(ctx.db, (tx) => {
    const subscriber = findSubscriberById(tx, input.subscriberId);
    if (!subscriber) throw new NotFoundError();
    // bounced and complained already receive nothing; keep that more specific state.
    if (subscriber.status !== 'pending' && subscriber.status !== 'active') return subscriber;
    tx.update(subscribers)
      .set({ status: 'unsubscribed', unsubscribedAt: now, updatedAt: now })
      .where(eq(subscribers.id, subscriber.id))
      .run();
    recordEvent(tx, { subscriberId: subscriber.id, type: 'unsubscribed', source: input.source, at: now });
    return { ...subscriber, status: 'unsubscribed' as const };
  });
}

import { asc, eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { subscriberEvents } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById, toSubscriberView } from './store.js';

/** Everything paperboy keeps about one subscriber, as plain JSON (GDPR art. 15 and 20). */
export function exportSubscriber({ ctx, input }: { ctx: Ctx; input: { subscriberId: number } }) {
  const subscriber = findSubscriberById(ctx.db, input.subscriberId);
  if (!subscriber) throw new NotFoundError();
  const events = ctx.db
    .select({
      type: subscriberEvents.type,
      source: subscriberEvents.source,
      at: subscriberEvents.createdAt,
      detail: subscriberEvents.detail,
    })
    .from(subscriberEvents)
    .where(eq(subscriberEvents.subscriberId, subscriber.id))
    .orderBy(asc(subscriberEvents.id))
    .all();
  return {
    exportedAt: ctx.clock().toISOString(),
    subscriber: {
      ...toSubscriberView(ctx.db, subscriber),
      createdAt: subscriber.createdAt.toISOString(),
      confirmedAt: subscriber.confirmedAt?.toISOString() ?? null,
      unsubscribedAt: subscriber.unsubscribedAt?.toISOString() ?? null,
    },
    events: events.map((event) => ({ ...event, at: event.at.toISOString() })),
  };
}

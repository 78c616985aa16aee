import type { Ctx } from '../context.js';
import type { EventSource, EventType } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { NotFoundError } from '../errors.js';
import { findSubscriberById, toSubscriberView } from './store.js';

/** Everything paperboy keeps about one subscriber, as plain JSON (GDPR art. 15 and 20). */
export async function exportSubscriber({ ctx, input }: { ctx: Ctx; input: { subscriberId: number } }) {
  const subscriber = await findSubscriberById(ctx.db, input.subscriberId);
  if (!subscriber) throw new NotFoundError();
  const events = await ctx.db.all<{
    type: EventType;
    source: EventSource;
    at: number;
    detail: string | null;
  }>(
    sql`select type, source, created_at as at, detail from subscriber_events
        where subscriber_id = ${subscriber.id} order by id`,
  );
  return {
    exportedAt: ctx.clock().toISOString(),
    subscriber: {
      ...(await toSubscriberView(ctx.db, subscriber)),
      createdAt: subscriber.createdAt.toISOString(),
      confirmedAt: subscriber.confirmedAt?.toISOString() ?? null,
      unsubscribedAt: subscriber.unsubscribedAt?.toISOString() ?? null,
    },
    events: events.map((event) => ({
      ...event,
      at: new Date(event.at).toISOString(),
      detail: event.detail === null ? null : (JSON.parse(event.detail) as Record<string, unknown>),
    })),
  };
}

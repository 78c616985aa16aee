import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import { type EventSource, subscribers } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { PreferencesPatch } from './preferences.js';
import { findSubscriberById, recordEvent, replaceTopics, toSubscriberView } from './store.js';

export function updatePreferences({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { subscriberId: number; patch: PreferencesPatch; source: EventSource };
}) {
  const now = ctx.clock();
  const { topics, ...fields } = input.patch;
  return inTransaction(ctx.db, (tx) => {
    const subscriber = findSubscriberById(tx, input.subscriberId);
    if (!subscriber) throw new NotFoundError();
    const changed = Object.keys(input.patch);
    if (changed.length > 0) {
      tx.update(subscribers)
        .set({ ...fields, updatedAt: now })
        .where(eq(subscribers.id, subscriber.id))
        .run();
      if (topics !== undefined) replaceTopics(tx, subscriber.id, topics);
      recordEvent(tx, {
        subscriberId: subscriber.id,
        type: 'preferences_changed',
        source: input.source,
        at: now,
        detail: { fields: changed },
      });
    }
    return toSubscriberView(tx, { ...subscriber, ...fields });
  });
}

import type { Ctx } from '../context.js';
import type { EventSource } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { fetchNamedPapers } from '../feedback/fetch-liked-papers.js';
import type { PreferencesPatch } from './preferences.js';
import {
  findSubscriberById,
  recordEvent,
  replaceTopics,
  toSubscriberView,
  updateSubscriber,
} from './store.js';

export async function updatePreferences({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { subscriberId: number; patch: PreferencesPatch; source: EventSource };
}) {
  const now = ctx.clock();
  const { topics, ...fields } = input.patch;
  const view = await ctx.db.transaction(async (tx) => {
    const subscriber = await findSubscriberById(tx, input.subscriberId);
    if (!subscriber) throw new NotFoundError();
    const changed = Object.keys(input.patch);
    if (changed.length > 0) {
      await updateSubscriber(tx, subscriber.id, { ...fields, updatedAt: now });
      if (topics !== undefined) await replaceTopics(tx, subscriber.id, topics);
      await recordEvent(tx, {
        subscriberId: subscriber.id,
        type: 'preferences_changed',
        source: input.source,
        at: now,
        detail: { fields: changed },
      });
    }
    return toSubscriberView(tx, { ...subscriber, ...fields });
  });
  if (topics !== undefined) await fetchNamedPapers(ctx, topics);
  return view;
}

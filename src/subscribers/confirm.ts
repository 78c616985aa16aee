import type { Ctx } from '../context.js';
import { NotFoundError } from '../errors.js';
import { fetchNamedPapers } from '../feedback/fetch-liked-papers.js';
import { closeRequests, recordEvent, replaceTopics, requestForToken, updateSubscriber } from './store.js';

/**
 * Activates the subscription with exactly the preferences of the request the link was sent for (the
 * page showed them). Confirming twice is fine; the other open requests of the address die with it.
 * A newly confirmed reader is sent their manage link by email, not on the page.
 */
export async function confirmSubscription({ ctx, input }: { ctx: Ctx; input: { token: string } }) {
  const now = ctx.clock();
  const outcome = await ctx.db.transaction(async (tx) => {
    const { request, subscriber } = await requestForToken({ ...ctx, db: tx }, input.token);
    if (request.confirmedAt) {
      if (subscriber.status === 'active') return { isNewlyConfirmed: false, subscriber, topics: [] };
      throw new NotFoundError('This link was already used. To start your digest again, subscribe again.');
    }
    if (subscriber.status === 'complained') {
      throw new NotFoundError(
        'This subscription cannot be confirmed. Write to the operator of this service.',
      );
    }
    const { topics, ...fields } = request.preferences;
    await updateSubscriber(tx, subscriber.id, {
      ...fields,
      status: 'active',
      confirmedAt: now,
      updatedAt: now,
      unsubscribedAt: null,
    });
    await replaceTopics(tx, subscriber.id, topics);
    await closeRequests(tx, request, now);
    await recordEvent(tx, { subscriberId: subscriber.id, type: 'confirmed', source: 'link', at: now });
    return {
      isNewlyConfirmed: true,
      subscriber: { ...subscriber, ...fields, status: 'active' as const },
      topics,
    };
  });
  if (outcome.isNewlyConfirmed) {
    await ctx.enqueue('lifecycle-email', { kind: 'welcome', subscriberId: outcome.subscriber.id });
    await fetchNamedPapers(ctx, outcome.topics);
  }
  return outcome;
}

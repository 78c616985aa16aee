import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import { type EventSource, subscribers } from '../db/schema.js';
import { defaultPreferences, type SubscribeInput } from './preferences.js';
import { findSubscriberByEmail, recordEvent, replaceTopics } from './store.js';
import { newTokenSalt } from './tokens.js';

/**
 * Stores or refreshes a subscription request and queues the right email. The caller answers the
 * same way whatever happened here, so nobody can learn which addresses are subscribed.
 *
 * - new, pending, unsubscribed or bounced address → `pending`, preferences saved, confirmation email
 * - active address → preferences untouched (the requester may not own it), "manage" email instead
 * - complained address → nothing is sent (they told their mailbox we are spam)
 * Whatever is posted, an address gets at most one email per throttle window.
 */
export async function subscribe({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: SubscribeInput & { source: EventSource };
}) {
  const now = ctx.clock();
  const { email, source, topics, ...fields } = input;
  const outcome = inTransaction(ctx.db, (tx) => {
    const existing = findSubscriberByEmail(tx, email);
    if (existing?.status === 'active') return { subscriberId: existing.id, email: 'manage' as const };
    if (existing?.status === 'complained') return { subscriberId: existing.id, email: undefined };

    let subscriberId: number;
    if (existing) {
      subscriberId = existing.id;
      tx.update(subscribers)
        .set({ ...fields, status: 'pending', updatedAt: now, unsubscribedAt: null })
        .where(eq(subscribers.id, existing.id))
        .run();
    } else {
      const { topics: _defaultTopics, ...defaults } = defaultPreferences;
      const row = tx
        .insert(subscribers)
        .values({
          ...defaults,
          ...fields,
          email,
          status: 'pending',
          tokenSalt: newTokenSalt(),
          createdAt: now,
          updatedAt: now,
        })
        .returning({ id: subscribers.id })
        .get();
      subscriberId = row.id;
    }
    if (topics !== undefined || !existing) replaceTopics(tx, subscriberId, topics ?? []);
    recordEvent(tx, { subscriberId, type: 'subscribed', source, at: now });
    return { subscriberId, email: 'confirmation' as const };
  });

  if (outcome.email && (await ctx.claimEmailSlot(email))) {
    await ctx.enqueue('lifecycle-email', { kind: outcome.email, subscriberId: outcome.subscriberId });
  }
}

import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import { type EventSource, subscribers } from '../db/schema.js';
import { defaultPreferences, type Preferences, type SubscribeInput } from './preferences.js';
import {
  deleteRequest,
  findSubscriberByEmail,
  insertRequest,
  preferencesOf,
  recordEvent,
  replaceTopics,
} from './store.js';
import { newTokenSalt } from './tokens.js';

/**
 * Records a subscription request and queues the right email. The caller answers the same way
 * whatever happened here, so nobody can learn which addresses are subscribed.
 *
 * - new address → a `pending` row with the requested preferences, a request, a confirmation email
 * - pending, unsubscribed or bounced address → the row is left as it is; a request holds what was
 *   asked, and only its own confirmation link applies it (whoever posts may not own the address)
 * - active address → nothing changes, a "manage" email instead
 * - complained address → nothing is sent (they told their mailbox we are spam)
 * Whatever is posted, a mailbox gets at most one email per throttle window.
 */
export async function subscribe({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: SubscribeInput & { source: EventSource };
}) {
  const now = ctx.clock();
  const { email, source, ...asked } = input;
  const outcome = inTransaction(ctx.db, (tx) => {
    const existing = findSubscriberByEmail(tx, email);
    if (existing?.status === 'active') return { subscriberId: existing.id, email: 'manage' as const };
    if (existing?.status === 'complained') return { subscriberId: existing.id, email: undefined };

    const preferences: Preferences = {
      ...(existing ? preferencesOf(tx, existing) : defaultPreferences),
      ...(Object.fromEntries(
        Object.entries(asked).filter(([, value]) => value !== undefined),
      ) as Partial<Preferences>),
    };
    let subscriberId = existing?.id;
    if (subscriberId === undefined) {
      const { topics, ...fields } = preferences;
      subscriberId = tx
        .insert(subscribers)
        .values({
          ...fields,
          email,
          status: 'pending',
          tokenSalt: newTokenSalt(),
          createdAt: now,
          updatedAt: now,
        })
        .returning({ id: subscribers.id })
        .get().id;
      replaceTopics(tx, subscriberId, topics);
    }
    const requestId = insertRequest(tx, subscriberId, preferences, now);
    recordEvent(tx, { subscriberId, type: 'subscribed', source, at: now });
    return { subscriberId, requestId, email: 'confirmation' as const };
  });

  if (!outcome.email) return;
  if (await ctx.claimEmailSlot(email)) {
    await ctx.enqueue('lifecycle-email', {
      kind: outcome.email,
      subscriberId: outcome.subscriberId,
      requestId: outcome.requestId,
    });
  } else if (outcome.requestId !== undefined) {
    // No email will carry its link: drop it, so it cannot push out a request whose email went.
    deleteRequest(ctx.db, outcome.requestId);
  }
}

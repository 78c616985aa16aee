import type { Ctx } from '../context.js';
import type { EventSource } from '../db/schema.js';
import { defaultPreferences, type Preferences, type SubscribeInput } from './preferences.js';
import {
  deleteRequest,
  findSubscriberByEmail,
  insertPendingSubscriber,
  insertRequest,
  insertTopics,
  preferencesOf,
  recordEvent,
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
  const askedFields = Object.fromEntries(
    Object.entries(asked).filter(([, value]) => value !== undefined),
  ) as Partial<Preferences>;
  const outcome = await ctx.db.transaction(async (tx) => {
    // Insert first: of two concurrent requests for a new address exactly one inserts, and the other
    // (on PostgreSQL, after waiting on the unique index) reads the row as an existing one.
    const fresh: Preferences = { ...defaultPreferences, ...askedFields };
    const { topics, ...fields } = fresh;
    const insertedId = await insertPendingSubscriber(tx, {
      ...fields,
      email,
      tokenSalt: newTokenSalt(),
      at: now,
    });
    const existing = insertedId === undefined ? await findSubscriberByEmail(tx, email) : undefined;
    if (existing?.status === 'active') return { subscriberId: existing.id, email: 'manage' as const };
    if (existing?.status === 'complained') return { subscriberId: existing.id, email: undefined };

    const subscriberId = insertedId ?? (existing as { id: number }).id;
    const preferences = existing ? { ...(await preferencesOf(tx, existing)), ...askedFields } : fresh;
    const isNewSubscriber = insertedId !== undefined;
    if (isNewSubscriber) await insertTopics(tx, insertedId, topics);
    const requestId = await insertRequest(tx, subscriberId, preferences, now, { isNewSubscriber });
    await recordEvent(tx, { subscriberId, type: 'subscribed', source, at: now });
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
    await deleteRequest(ctx.db, outcome.requestId);
  }
}

import type { Ctx } from '../context.js';
import type { EventSource } from '../db/schema.js';
import { defaultPreferences, type Preferences, type SubscribeInput } from './preferences.js';
import {
  deleteRequest,
  findSubscriberByEmail,
  insertNewSubscriber,
  insertRequest,
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
  const outcome = await recordRequest(ctx, { email, source, askedFields, at: now });
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

type Outcome = { subscriberId: number; requestId?: number; email: 'confirmation' | 'manage' | undefined };

async function recordRequest(
  ctx: Ctx,
  {
    email,
    source,
    askedFields,
    at,
  }: { email: string; source: EventSource; askedFields: Partial<Preferences>; at: Date },
): Promise<Outcome> {
  // A row deleted between the two steps below ("delete my data" meanwhile) is inserted anew.
  for (let attempt = 1; ; attempt++) {
    // Insert first: of two concurrent requests for a new address exactly one inserts, and the other
    // (on PostgreSQL, after waiting on the unique index) finds the row as an existing one.
    const created = await insertNewSubscriber(ctx.db, {
      email,
      preferences: { ...defaultPreferences, ...askedFields },
      tokenSalt: newTokenSalt(),
      source,
      at,
    });
    if (created) return { ...created, email: 'confirmation' };

    const outcome = await ctx.db.transaction(async (tx): Promise<Outcome | undefined> => {
      const existing = await findSubscriberByEmail(tx, email);
      if (!existing) return undefined;
      if (existing.status === 'active') return { subscriberId: existing.id, email: 'manage' };
      if (existing.status === 'complained') return { subscriberId: existing.id, email: undefined };
      const preferences = { ...(await preferencesOf(tx, existing)), ...askedFields };
      const requestId = await insertRequest(tx, existing.id, preferences, at);
      await recordEvent(tx, { subscriberId: existing.id, type: 'subscribed', source, at });
      return { subscriberId: existing.id, requestId, email: 'confirmation' };
    });
    if (outcome) return outcome;
    if (attempt === 3) throw new Error(`the row of ${email} kept disappearing while subscribing`);
  }
}

import type { Db } from '../../src/db/client.js';
import {
  type Subscriber,
  type SubscriberStatus,
  subscribers,
  subscriptionRequests,
} from '../../src/db/schema.js';
import { defaultPreferences, type Preferences } from '../../src/subscribers/preferences.js';
import { preferencesOf, replaceTopics } from '../../src/subscribers/store.js';
import { newTokenSalt } from '../../src/subscribers/tokens.js';

/**
 * A subscriber row in a given state, written straight to the database: no email is sent and no
 * per-address throttle slot is used, so a test can then watch exactly what the HTTP layer does.
 */
export function seedSubscriber(
  db: Db,
  seed: { email: string; status?: SubscriberStatus } & Partial<Preferences>,
): Subscriber {
  const { email, status = 'active', topics = [], ...preferences } = seed;
  const { topics: _defaultTopics, ...defaults } = defaultPreferences;
  const now = new Date();
  const subscriber = db
    .insert(subscribers)
    .values({
      ...defaults,
      ...preferences,
      email,
      status,
      tokenSalt: newTokenSalt(),
      createdAt: now,
      updatedAt: now,
      confirmedAt: status === 'pending' ? null : now,
      unsubscribedAt: status === 'unsubscribed' ? now : null,
    })
    .returning()
    .get();
  replaceTopics(db, subscriber.id, topics);
  return subscriber;
}

/**
 * A subscription request for the subscriber (their current preferences unless told otherwise), as a
 * token subject: confirmation links name the request and carry the subscriber's salt.
 */
export function seedRequest(
  db: Db,
  subscriber: Subscriber,
  preferences: Partial<Preferences> = {},
  at = new Date(),
): { id: number; tokenSalt: string } {
  const row = db
    .insert(subscriptionRequests)
    .values({
      subscriberId: subscriber.id,
      preferences: { ...preferencesOf(db, subscriber), ...preferences },
      createdAt: at,
    })
    .returning({ id: subscriptionRequests.id })
    .get();
  return { id: row.id, tokenSalt: subscriber.tokenSalt };
}

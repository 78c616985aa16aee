import type { Db } from '../../src/db/client.js';
import type { Subscriber, SubscriberStatus } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { defaultPreferences, type Preferences } from '../../src/subscribers/preferences.js';
import { findSubscriberById, preferencesOf, replaceTopics } from '../../src/subscribers/store.js';
import { newTokenSalt } from '../../src/subscribers/tokens.js';

/**
 * A subscriber row in a given state, written straight to the database: no email is sent and no
 * per-address throttle slot is used, so a test can then watch exactly what the HTTP layer does.
 */
export async function seedSubscriber(
  db: Db,
  seed: { email: string; status?: SubscriberStatus } & Partial<Preferences>,
): Promise<Subscriber> {
  const { email, status = 'active', topics = [], ...preferences } = seed;
  const { topics: _defaultTopics, ...defaults } = defaultPreferences;
  const fields = { ...defaults, ...preferences };
  const now = new Date();
  const id = await db.value<number>(sql`
    insert into subscribers (email, status, frequency, weekly_day, timezone, send_hour, max_papers, delivery,
      token_salt, created_at, updated_at, confirmed_at, unsubscribed_at)
    values (${email}, ${status}, ${fields.frequency}, ${fields.weeklyDay}, ${fields.timezone}, ${fields.sendHour},
      ${fields.maxPapers}, ${fields.delivery}, ${newTokenSalt()}, ${now}, ${now}, ${status === 'pending' ? null : now},
      ${status === 'unsubscribed' ? now : null})
    returning id`);
  await replaceTopics(db, id as number, topics);
  return (await findSubscriberById(db, id as number)) as Subscriber;
}

/**
 * A subscription request for the subscriber (their current preferences unless told otherwise), as a
 * token subject: confirmation links name the request and carry the subscriber's salt.
 */
export async function seedRequest(
  db: Db,
  subscriber: Subscriber,
  preferences: Partial<Preferences> = {},
  at = new Date(),
): Promise<{ id: number; tokenSalt: string }> {
  const requested = { ...(await preferencesOf(db, subscriber)), ...preferences };
  const id = await db.value<number>(sql`
    insert into subscription_requests (subscriber_id, preferences, created_at)
    values (${subscriber.id}, ${JSON.stringify(requested)}, ${at}) returning id`);
  return { id: id as number, tokenSalt: subscriber.tokenSalt };
}

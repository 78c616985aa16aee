import { type Db, forUpdate } from '../db/client.js';
import type {
  EventSource,
  EventType,
  RequestedPreferences,
  Subscriber,
  SubscriptionRequest,
} from '../db/schema.js';
import { sql } from '../db/sql.js';
import { NotFoundError } from '../errors.js';
import {
  type FeedbackEntry,
  type LikedPaperEntry,
  listFeedback,
  listLikedPapers,
} from '../feedback/store.js';
import type { Preferences } from './preferences.js';
import type { TokenPurpose, Tokens } from './tokens.js';

const subscriberColumns = sql`id, email, status, frequency, weekly_day as "weeklyDay", timezone,
  send_hour as "sendHour", max_papers as "maxPapers", delivery, token_salt as "tokenSalt", created_at as "createdAt",
  updated_at as "updatedAt", confirmed_at as "confirmedAt", unsubscribed_at as "unsubscribedAt"`;

const dateOrNull = (value: unknown) => (value === null ? null : new Date(value as number));

function toSubscriber(row: Record<string, unknown> | undefined): Subscriber | undefined {
  if (!row) return undefined;
  return {
    ...(row as Omit<Subscriber, 'createdAt' | 'updatedAt' | 'confirmedAt' | 'unsubscribedAt'>),
    createdAt: new Date(row.createdAt as number),
    updatedAt: new Date(row.updatedAt as number),
    confirmedAt: dateOrNull(row.confirmedAt),
    unsubscribedAt: dateOrNull(row.unsubscribedAt),
  };
}

/** The subscriber with this id; inside a transaction on PostgreSQL, locked until it commits. */
export async function findSubscriberById(db: Db, id: number): Promise<Subscriber | undefined> {
  return toSubscriber(
    await db.get(sql`select ${subscriberColumns} from subscribers where id = ${id}${forUpdate(db)}`),
  );
}

export async function findSubscriberByEmail(db: Db, email: string): Promise<Subscriber | undefined> {
  return toSubscriber(
    await db.get(sql`select ${subscriberColumns} from subscribers where email = ${email}${forUpdate(db)}`),
  );
}

/**
 * A new `pending` subscriber; undefined when the address already has a row (another request stored
 * it first: on PostgreSQL a concurrent insert waits on the unique index instead of failing).
 */
export async function insertPendingSubscriber(
  db: Db,
  fields: Omit<Preferences, 'topics'> & { email: string; tokenSalt: string; at: Date },
): Promise<number | undefined> {
  return db.value<number>(sql`
    insert into subscribers (email, status, frequency, weekly_day, timezone, send_hour, max_papers, delivery,
      token_salt, created_at, updated_at)
    values (${fields.email}, 'pending', ${fields.frequency}, ${fields.weeklyDay}, ${fields.timezone},
      ${fields.sendHour}, ${fields.maxPapers}, ${fields.delivery}, ${fields.tokenSalt}, ${fields.at}, ${fields.at})
    on conflict (email) do nothing returning id`);
}

/**
 * A new address, all or nothing: its `pending` row, topics, first request (holding `preferences`) and
 * `subscribed` event; undefined, with nothing written, when the address already has a row. PostgreSQL
 * runs it as one statement (inserts in a WITH): one round trip, and no transaction held open between
 * statements while the process serves other requests. SQLite has no inserts in a WITH; in process, its
 * four statements cost no round trips.
 */
export async function insertNewSubscriber(
  db: Db,
  fields: {
    email: string;
    preferences: Preferences;
    tokenSalt: string;
    source: EventSource;
    at: Date;
  },
): Promise<{ subscriberId: number; requestId: number } | undefined> {
  const { email, preferences, tokenSalt, source, at } = fields;
  const { topics, ...columns } = preferences;
  if (db.dialect === 'postgres') {
    return db.get<{ subscriberId: number; requestId: number }>(sql`
      with subscriber as (
        insert into subscribers (email, status, frequency, weekly_day, timezone, send_hour, max_papers,
          delivery, token_salt, created_at, updated_at)
        values (${email}, 'pending', ${columns.frequency}, ${columns.weeklyDay}, ${columns.timezone},
          ${columns.sendHour}, ${columns.maxPapers}, ${columns.delivery}, ${tokenSalt}, ${at}, ${at})
        on conflict (email) do nothing returning id
      ), topics as (
        insert into subscriber_topics (subscriber_id, position, query)
        select subscriber.id, topic.position - 1, topic.query
        from subscriber, unnest(${topics}::text[]) with ordinality as topic(query, position)
      ), request as (
        insert into subscription_requests (subscriber_id, preferences, created_at)
        select id, ${JSON.stringify(preferences)}, ${at} from subscriber returning id, subscriber_id
      ), event as (
        insert into subscriber_events (subscriber_id, type, source, detail, created_at)
        select id, 'subscribed', ${source}, null, ${at} from subscriber
      )
      select subscriber_id as "subscriberId", id as "requestId" from request`);
  }
  return db.transaction(async (tx) => {
    const subscriberId = await insertPendingSubscriber(tx, { ...columns, email, tokenSalt, at });
    if (subscriberId === undefined) return undefined;
    await insertTopics(tx, subscriberId, topics);
    const requestId = await insertRequest(tx, subscriberId, preferences, at, { isNewSubscriber: true });
    await recordEvent(tx, { subscriberId, type: 'subscribed', source, at });
    return { subscriberId, requestId };
  });
}

/** Writes the given columns of one subscriber (and `updated_at`). */
export async function updateSubscriber(
  db: Db,
  id: number,
  fields: Partial<Omit<Preferences, 'topics'>> &
    Partial<Pick<Subscriber, 'status' | 'confirmedAt' | 'unsubscribedAt'>> & { updatedAt: Date },
): Promise<void> {
  const columns: Record<keyof typeof fields, string> = {
    frequency: 'frequency',
    weeklyDay: 'weekly_day',
    timezone: 'timezone',
    sendHour: 'send_hour',
    maxPapers: 'max_papers',
    delivery: 'delivery',
    status: 'status',
    confirmedAt: 'confirmed_at',
    unsubscribedAt: 'unsubscribed_at',
    updatedAt: 'updated_at',
  };
  const sets = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => sql`${sql.raw(columns[field as keyof typeof fields])} = ${value}`);
  await db.run(sql`update subscribers set ${sql.join(sets)} where id = ${id}`);
}

export async function readTopics(db: Db, subscriberId: number): Promise<string[]> {
  return db.column<string>(
    sql`select query from subscriber_topics where subscriber_id = ${subscriberId} order by position`,
  );
}

export async function replaceTopics(db: Db, subscriberId: number, topics: readonly string[]): Promise<void> {
  await db.run(sql`delete from subscriber_topics where subscriber_id = ${subscriberId}`);
  await insertTopics(db, subscriberId, topics);
}

/** The topics of a subscriber that has none yet (one just inserted). */
export async function insertTopics(db: Db, subscriberId: number, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const rows = topics.map((query, position) => sql`(${subscriberId}, ${position}, ${query})`);
  await db.run(sql`insert into subscriber_topics (subscriber_id, position, query) values ${sql.join(rows)}`);
}

export async function recordEvent(
  db: Db,
  event: {
    subscriberId: number;
    type: EventType;
    source: EventSource;
    at: Date;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  const detail = event.detail === undefined ? null : JSON.stringify(event.detail);
  await db.run(sql`insert into subscriber_events (subscriber_id, type, source, detail, created_at)
    values (${event.subscriberId}, ${event.type}, ${event.source}, ${detail}, ${event.at})`);
}

const invalidLink =
  'This link is not valid: it may have expired or been replaced by a newer one. For a fresh link to your preferences, enter your address on the home page and we will email you one.';

type TokenCtx = { db: Db; tokens: Tokens; clock: () => Date };

/** The subscriber a link token names, if the token is genuine, unexpired and of this purpose. */
export async function findSubscriberForToken(ctx: TokenCtx, token: string, purpose: TokenPurpose) {
  const id = ctx.tokens.peek(token, purpose);
  const subscriber = id === undefined ? undefined : await findSubscriberById(ctx.db, id);
  return ctx.tokens.verify(token, purpose, subscriber, ctx.clock()) ? subscriber : undefined;
}

/** As `findSubscriberForToken`, but anything forged, expired or of another purpose is "not found". */
export async function subscriberForToken(
  ctx: TokenCtx,
  token: string,
  purpose: TokenPurpose,
): Promise<Subscriber> {
  const subscriber = await findSubscriberForToken(ctx, token, purpose);
  if (!subscriber) throw new NotFoundError(invalidLink);
  return subscriber;
}

/** An open request is kept as long as its link lives. */
const requestLifetimeMs = 7 * 24 * 60 * 60 * 1000;

/**
 * Stores a request. Only requests whose email went are kept (`subscribe` deletes the others), so the
 * mail throttle bounds them, five a day per mailbox; the ones past their link's lifetime go here.
 * (Keeping only the newest few instead would let a burst of concurrent posts push out the one whose
 * email went.)
 */
export async function insertRequest(
  db: Db,
  subscriberId: number,
  preferences: Preferences,
  at: Date,
  options: { isNewSubscriber?: boolean } = {},
): Promise<number> {
  // A subscriber inserted in this transaction has no requests yet: nothing to look for.
  if (!options.isNewSubscriber) {
    const expired = new Date(at.getTime() - requestLifetimeMs);
    await db.run(
      sql`delete from subscription_requests where subscriber_id = ${subscriberId} and created_at < ${expired}`,
    );
  }
  return (await db.value<number>(sql`
    insert into subscription_requests (subscriber_id, preferences, created_at)
    values (${subscriberId}, ${JSON.stringify(preferences)}, ${at}) returning id`)) as number;
}

export async function findRequestById(db: Db, id: number): Promise<SubscriptionRequest | undefined> {
  const row = await db.get<{
    id: number;
    subscriberId: number;
    preferences: string;
    createdAt: number;
    confirmedAt: number | null;
  }>(sql`
    select id, subscriber_id as "subscriberId", preferences, created_at as "createdAt", confirmed_at as "confirmedAt"
    from subscription_requests where id = ${id}${forUpdate(db)}`);
  if (!row) return undefined;
  return {
    ...row,
    // Requests stored before "feed only" existed asked for email.
    preferences: {
      delivery: 'email',
      ...(JSON.parse(row.preferences) as Partial<RequestedPreferences>),
    } as RequestedPreferences,
    createdAt: new Date(row.createdAt),
    confirmedAt: dateOrNull(row.confirmedAt),
  };
}

export async function deleteRequest(db: Db, id: number): Promise<void> {
  await db.run(sql`delete from subscription_requests where id = ${id}`);
}

/** Marks a request confirmed and drops the subscriber's other requests: their links stop working. */
export async function closeRequests(db: Db, confirmed: SubscriptionRequest, at: Date): Promise<void> {
  await db.run(sql`delete from subscription_requests
    where subscriber_id = ${confirmed.subscriberId} and id != ${confirmed.id}`);
  await db.run(sql`update subscription_requests set confirmed_at = ${at} where id = ${confirmed.id}`);
}

/** The request a confirmation token names, and its subscriber, if the token is genuine and unexpired. */
export async function requestForToken(ctx: TokenCtx, token: string) {
  const id = ctx.tokens.peek(token, 'confirm');
  const request = id === undefined ? undefined : await findRequestById(ctx.db, id);
  const subscriber = request && (await findSubscriberById(ctx.db, request.subscriberId));
  const subject = request && subscriber && { id: request.id, tokenSalt: subscriber.tokenSalt };
  if (!request || !subscriber || !ctx.tokens.verify(token, 'confirm', subject, ctx.clock())) {
    throw new NotFoundError(invalidLink);
  }
  return { request, subscriber };
}

export async function preferencesOf(db: Db, subscriber: Subscriber): Promise<Preferences> {
  return {
    topics: await readTopics(db, subscriber.id),
    frequency: subscriber.frequency,
    weeklyDay: subscriber.weeklyDay,
    timezone: subscriber.timezone,
    sendHour: subscriber.sendHour,
    maxPapers: subscriber.maxPapers,
    delivery: subscriber.delivery,
  };
}

export interface SubscriberView extends Preferences {
  email: string;
  status: Subscriber['status'];
  /** "More / less like this", newest first. */
  feedback: FeedbackEntry[];
  /** "Papers I like", newest first. */
  likedPapers: LikedPaperEntry[];
}

export async function toSubscriberView(db: Db, subscriber: Subscriber): Promise<SubscriberView> {
  const [preferences, feedback, likedPapers] = await Promise.all([
    preferencesOf(db, subscriber),
    listFeedback(db, subscriber.id),
    listLikedPapers(db, subscriber.id),
  ]);
  return { email: subscriber.email, status: subscriber.status, ...preferences, feedback, likedPapers };
}
